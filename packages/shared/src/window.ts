/** Tumbling windows of the contract: 5 s, aligned to the epoch. */
export const WINDOW_SIZE_MS = 5000;

/** The cap of engaged time per window: a user cannot be engaged longer than the window lasts. */
export const MAX_ENGAGED_MS_PER_WINDOW = WINDOW_SIZE_MS;

/** Start of the tumbling window `[start, start + size)` holding `eventTime`, aligned to the epoch. */
export function windowStartOf(eventTime: number, sizeMs: number = WINDOW_SIZE_MS): number {
  return eventTime - (((eventTime % sizeMs) + sizeMs) % sizeMs);
}
