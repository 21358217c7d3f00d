import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ClientEventSchema, EventBatchSchema, eventTypeErrors, type ClientEvent } from '@clickstream/shared';
import { CollectorError } from './errors.js';

const eventChecker = TypeCompiler.Compile(ClientEventSchema);
const batchChecker = TypeCompiler.Compile(EventBatchSchema);

export interface Rejection {
  index: number;
  errors: string[];
  raw: unknown;
}

export interface ValidatedBody {
  sentAt: number | undefined;
  /** The body was one event rather than a batch. */
  single: boolean;
  accepted: ClientEvent[];
  rejected: Rejection[];
}

const MAX_ERRORS_PER_EVENT = 10;

function schemaErrors(value: unknown): string[] {
  const errors: string[] = [];
  for (const error of eventChecker.Errors(value)) {
    errors.push(`${error.path || '/'}: ${error.message}`);
    if (errors.length >= MAX_ERRORS_PER_EVENT) break;
  }
  return errors;
}

// Keys that mean something to JavaScript objects; harmless after JSON.parse, but a consumer
// that copies props into an object with `obj[key] = ...` could be tricked by them.
const FORBIDDEN_PROP_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// NUL cannot be stored in a PostgreSQL text column and a lone surrogate is not valid UTF-8:
// both would break a consumer far from here, so they are refused at the door.
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function badText(value: string): boolean {
  return BAD_TEXT.test(value);
}

/** Rules about string contents that a JSON schema cannot say. */
export function textErrors(event: ClientEvent): string[] {
  const errors: string[] = [];
  for (const [key, value] of Object.entries(event)) {
    if (typeof value === 'string' && badText(value)) errors.push(`/${key}: contains a NUL character or a lone surrogate`);
  }
  for (const [key, value] of Object.entries(event.target ?? {})) {
    if (typeof value === 'string' && badText(value)) errors.push(`/target/${key}: contains a NUL character or a lone surrogate`);
  }
  for (const [key, value] of Object.entries(event.props ?? {})) {
    if (FORBIDDEN_PROP_KEYS.has(key)) errors.push(`/props/${key}: this key is not allowed`);
    else if (badText(key) || (typeof value === 'string' && badText(value))) errors.push(`/props/${key}: contains a NUL character or a lone surrogate`);
  }
  return errors;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Splits a parsed body into valid events and per-index rejections. A body that is neither an
 * event nor a batch is refused whole.
 */
export function validateBody(body: unknown): ValidatedBody {
  if (!isPlainObject(body)) throw new CollectorError('INVALID_BODY');
  let sentAt: number | undefined;
  let candidates: unknown[];
  const single = !('events' in body);
  if (!single) {
    if (!batchChecker.Check(body)) {
      const first = batchChecker.Errors(body).First();
      throw new CollectorError('INVALID_BODY', first ? `${first.path || '/'}: ${first.message}` : undefined);
    }
    sentAt = body.sentAt as number | undefined;
    candidates = body.events as unknown[];
  } else {
    candidates = [body];
  }
  const accepted: ClientEvent[] = [];
  const rejected: Rejection[] = [];
  candidates.forEach((candidate, index) => {
    if (!eventChecker.Check(candidate)) {
      rejected.push({ index, errors: schemaErrors(candidate), raw: candidate });
      return;
    }
    const typeErrors = [...eventTypeErrors(candidate), ...textErrors(candidate)];
    if (typeErrors.length > 0) rejected.push({ index, errors: typeErrors, raw: candidate });
    else accepted.push(candidate);
  });
  return { sentAt, single, accepted, rejected };
}
