/**
 * Fastify's own logger, fed by `createLogger`: one line per request (`request completed`, with
 * method, masked URL, status and response time) instead of Fastify's two, at a level each
 * service chooses. Imported as `@clickstream/shared/fastify-logger`.
 */
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger, LogLevel } from './logger.js';

export type RequestLogLevel = Exclude<LogLevel, 'silent'>;

/** Fastify's log lines, request side: one line per request, nothing from headers or body. */
export class RequestLogController extends LogController {
  constructor(private readonly requestLevel: RequestLogLevel = 'info') {
    super();
  }

  override incomingRequest(): void {
    // The completed line carries the method and URL too.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const log = reply.log as Logger;
    if (error) {
      log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
      return;
    }
    if (!log.isLevelEnabled(this.requestLevel)) return;
    log[this.requestLevel]({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    // Fastify's own line puts the raw URL (query string and all) into the message.
    request.log.info({ req: request }, 'route not found');
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    // A client error's message may quote the body (JSON parse errors do): only its code goes out.
    if (reply.statusCode >= 500) reply.log.error({ req: request, res: reply, err: error }, 'request failed');
    else reply.log.info({ req: request, res: reply, code: (error as { code?: string }).code }, 'request refused');
  }
}

export interface FastifyLoggingOptions {
  /** Level of the per-request line; `info` by default. */
  requestLevel?: RequestLogLevel;
}

/** Options to spread into `Fastify({...})`: the service's logger and the request-line policy. */
export function fastifyLogging(logger: Logger, { requestLevel = 'info' }: FastifyLoggingOptions = {}): { loggerInstance: FastifyBaseLogger; logController: LogController } {
  return { loggerInstance: logger, logController: new RequestLogController(requestLevel) };
}
