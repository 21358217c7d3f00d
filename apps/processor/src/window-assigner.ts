import { WINDOW_SIZE_MS } from '@clickstream/shared';

/** Start of the tumbling window `[start, start + size)` holding `eventTime`, aligned to the epoch. */
export function windowStartOf(eventTime: number, sizeMs: number = WINDOW_SIZE_MS): number {
  return eventTime - (((eventTime % sizeMs) + sizeMs) % sizeMs);
}

