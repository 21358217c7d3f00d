import { CollectorError } from './errors.js';

// JSON.parse turns `"__proto__"` into a harmless own property, but code that later copies
// objects key by key (Object.assign, a merge) would set a prototype from it. Such bodies are
// refused whole, like Fastify's own `onProtoPoisoning: 'error'`, with an error of their own.
const SUSPECT = /__proto__|constructor|\\u/;

function poisoned(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null || depth > 32) return false;
  if (Array.isArray(value)) return value.some((item) => poisoned(item, depth + 1));
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return true;
    if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) return true;
    if (poisoned(child, depth + 1)) return true;
  }
  return false;
}

/** Parses a request body as JSON (application/json and sendBeacon's text/plain alike). */
export function parseJsonBody(body: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new CollectorError('INVALID_JSON', (error as Error).message);
  }
  if (SUSPECT.test(body) && poisoned(value)) throw new CollectorError('FORBIDDEN_KEY');
  return value;
}
