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
  if ('events' in body) {
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
    const typeErrors = eventTypeErrors(candidate);
    if (typeErrors.length > 0) rejected.push({ index, errors: typeErrors, raw: candidate });
    else accepted.push(candidate);
  });
  return { sentAt, accepted, rejected };
}
