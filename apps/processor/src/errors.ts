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

export class DeliveryError extends Error {
  readonly retriable = true;
  constructor(
    readonly partition: number,
    cause: unknown,
  ) {
    super(`partition ${partition}: delivering the outbox to Kafka failed: ${(cause as Error)?.message ?? cause}`);
    this.name = 'DeliveryError';
  }
}
