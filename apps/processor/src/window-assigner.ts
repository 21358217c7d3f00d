import { WINDOW_SIZE_MS } from '@clickstream/shared';

/** Maps an event time to its tumbling window `[start, start + size)`, aligned to the epoch. */
export function assignWindow(eventTime: number, sizeMs: number = WINDOW_SIZE_MS): { start: number; end: number } {
  const start = eventTime - (((eventTime % sizeMs) + sizeMs) % sizeMs);
  return { start, end: start + sizeMs };
}
