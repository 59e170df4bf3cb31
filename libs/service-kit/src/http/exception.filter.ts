import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { FlotillaError, isConcurrencyError, isIllegalStateError, isNotFoundError, isValidationError } from '@flotilla/domain';
import { isUnavailable } from '@flotilla/messaging';
import type { Logger } from '@flotilla/observability';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, RateLimitedError } from './principal';

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 412: 'Precondition Failed', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };

/** What the JSON body parser (secure-json-parse) says of a body with `__proto__` or `constructor.prototype` keys. */
const PROTOTYPE_POISONING = /forbidden (prototype|constructor) property/;

/** The HTTP status of an error of the one error model; null for errors that are not ours to map. */
export function statusOf(error: FlotillaError): number {
  if (error instanceof AuthError) return error.status;
  if (error instanceof RateLimitedError) return 429;
  if (isValidationError(error)) return 400;
  if (isNotFoundError(error)) return 404;
  if (isIllegalStateError(error)) return 409;
  if (isConcurrencyError(error)) return 412;
  // An infrastructure error that escaped its retries: the request may succeed later.
  return (error as FlotillaError).retriable ? 503 : 500;
}

/**
 * A request Fastify refused before any handler ran (its errors carry the status): a body that is not
 * JSON, is empty or too large, a URL it cannot decode, a method no route has. The request was wrong,
 * so the answer is that 4xx with Fastify's reason; a body of another media type than JSON is a 400
 * like any other body that is not JSON. Null for anything else.
 */
function requestErrorOf(error: unknown, request: FastifyRequest | undefined): { status: number; code: string; message: string } | null {
  if (!(error instanceof Error)) return null;
  const { statusCode, code } = error as Error & { statusCode?: unknown; code?: unknown };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500 || typeof code !== 'string' || !code.startsWith('FST_')) return null;
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 400, code, message: `the body must be JSON (Content-Type: application/json), not ${request?.headers['content-type'] ?? 'without a Content-Type'}` };
  }
  if (code === 'FST_ERR_NOT_FOUND') return { status: 404, code, message: `Cannot ${request?.method ?? 'request'} ${request?.url ?? 'this'}` };
  return { status: statusCode, code, message: error.message };
}

/**
 * Maps the one error model to HTTP once, for every service: validation → 400 with every field's
 * problem, not found → 404, illegal state → 409, concurrency → 412, authentication → 401 (with
 * WWW-Authenticate), forbidden → 403, rate limited → 429 (with Retry-After). Nest's own HTTP
 * exceptions (a malformed JSON body, an unknown route) and the requests Fastify refuses (an empty or
 * oversized body, another media type, an unknown method) keep their 4xx. A dependency that is away
 * is a 503 with Retry-After. Anything else is a 500 whose detail stays in the log, not in the answer.
 */
@Catch()
export class FlotillaExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof FlotillaError) {
      const status = statusOf(error);
      if (status >= 500) this.logger.error({ err: error }, 'request failed');
      if (error instanceof AuthError && status === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`);
      if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
      const body: Record<string, unknown> = { statusCode: status, error: REASONS[status] ?? 'Error', code: error.code, message: status >= 500 && !error.retriable ? 'internal error' : error.message };
      if (isValidationError(error)) body.problems = error.problems;
      void reply.status(status).send(body);
      return;
    }
    if (error instanceof HttpException) {
      const response = error.getResponse();
      const status = error.getStatus();
      if (status === 400 && PROTOTYPE_POISONING.test(error.message)) {
        // Valid JSON that the body parser refuses on purpose: the document cannot say so, the answer must.
        void reply.status(400).send({ statusCode: 400, error: REASONS[400], code: 'FORBIDDEN_PROPERTY_NAME', message: 'the body has a property named "__proto__", or "constructor" holding "prototype": refused, since such names can rewrite objects (prototype poisoning)' });
        return;
      }
      void reply.status(status).send(typeof response === 'object' ? response : { statusCode: status, error: REASONS[status] ?? 'Error', message: response });
      return;
    }
    const refused = requestErrorOf(error, host.switchToHttp().getRequest<FastifyRequest>());
    if (refused) {
      void reply.status(refused.status).send({ statusCode: refused.status, error: REASONS[refused.status] ?? 'Error', code: refused.code, message: refused.message });
      return;
    }
    if (isUnavailable(error)) {
      // A dependency is away (PostgreSQL restarting, the broker gone): nobody's fault, and the same
      // request will succeed once it is back, which /ready tells.
      this.logger.warn({ err: error }, 'request failed: a dependency is unavailable');
      reply.header('retry-after', '1');
      void reply.status(503).send({ statusCode: 503, error: REASONS[503], code: 'DEPENDENCY_UNAVAILABLE', message: 'a dependency of this service is unavailable; retry shortly (GET /ready names it)' });
      return;
    }
    this.logger.error({ err: error }, 'request failed');
    void reply.status(500).send({ statusCode: 500, error: REASONS[500], code: 'INTERNAL', message: 'internal error' });
  }
}
