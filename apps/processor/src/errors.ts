/** Errors of the processor, each with whether retrying the same step can help. */
export class FencedError extends Error {
  readonly retriable = false;
  constructor(
    readonly partition: number,
    readonly epoch: number,
  ) {
    super(`partition ${partition}: epoch ${epoch} was fenced by a newer owner`);
    this.name = 'FencedError';
  }
}
