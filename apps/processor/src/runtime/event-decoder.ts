import { EVENT_TYPES, type EnrichedEvent } from '@clickstream/shared';

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/**
 * The collector validated every event; this only guards against records that did not come from
 * it, so a stray record cannot crash the job.
 */
export function decodeEvent(value: Buffer | null): EnrichedEvent | undefined {
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const e = parsed as Partial<EnrichedEvent>;
  if (
    typeof e.id !== 'string' ||
    typeof e.siteId !== 'string' ||
    typeof e.userId !== 'string' ||
    typeof e.sessionId !== 'string' ||
    typeof e.url !== 'string' ||
    typeof e.eventTime !== 'number' ||
    !Number.isFinite(e.eventTime) ||
    !KNOWN_TYPES.has(e.type as string)
  ) {
    return undefined;
  }
  if (e.type === 'engagement' && (typeof e.engagedMs !== 'number' || !Number.isFinite(e.engagedMs) || e.engagedMs < 0)) return undefined;
  return e as EnrichedEvent;
}
