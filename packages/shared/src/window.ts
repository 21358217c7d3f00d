/** Tumbling windows of the contract: 5 s, aligned to the epoch. */
export const WINDOW_SIZE_MS = 5000;

/** The cap of engaged time per window: a user cannot be engaged longer than the window lasts. */
export const MAX_ENGAGED_MS_PER_WINDOW = WINDOW_SIZE_MS;

export function windowStartOf(eventTime: number): number {
  return eventTime - (((eventTime % WINDOW_SIZE_MS) + WINDOW_SIZE_MS) % WINDOW_SIZE_MS);
}
