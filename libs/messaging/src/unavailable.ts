import { setTimeout as sleep } from 'node:timers/promises';

/** Socket errors: the dependency is not there (refused, reset, unreachable), not that the request was wrong. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * PostgreSQL SQLSTATEs of a server going away or not taking connections yet: admin_shutdown (a
 * terminated backend, a fast shutdown), crash_shutdown, cannot_connect_now (starting up, recovering),
 * too_many_connections; and the whole connection_exception class (08xxx).
 */
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '53300']);

/** kafkajs: no connection to a broker, or a partition or group without its broker for the moment (a broker restarting). */
const KAFKA_ERROR_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSNoBrokerAvailableError', 'KafkaJSRequestTimeoutError']);
const KAFKA_ERROR_TYPES = new Set(['LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_COORDINATOR', 'REQUEST_TIMED_OUT']);

/** What node-postgres says when the socket went away under a client (these errors carry no code). */
const MESSAGES = [/connection terminated/i, /not queryable/i, /timeout exceeded when trying to connect/i, /terminating connection/i, /the database system is (starting up|shutting down|in recovery mode)/i];

/**
 * Whether `error` means that a dependency (PostgreSQL, the schema registry, a broker) is away for
 * now, rather than that the work itself is wrong: waiting and trying again will succeed once it is
 * back, so such a failure must never send a message to a dead-letter topic. Looks through causes,
 * the last error of exhausted retries and aggregated errors.
 */
export function isUnavailable(error: unknown): boolean {
  return unavailable(error, 0);
}

function unavailable(error: unknown, depth: number): boolean {
  if (depth > 6 || error === null || typeof error !== 'object') return false;
  const { code, name, type, message, cause, lastError, errors } = error as { code?: unknown; name?: unknown; type?: unknown; message?: unknown; cause?: unknown; lastError?: unknown; errors?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if ((typeof name === 'string' && KAFKA_ERROR_NAMES.has(name)) || (typeof type === 'string' && KAFKA_ERROR_TYPES.has(type))) return true;
  if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
  const nested = [cause, lastError, ...(Array.isArray(errors) ? errors : [])];
  return nested.some((inner) => inner !== error && unavailable(inner, depth + 1));
}

export interface WhileUnavailableOptions {
  /** First wait after an unavailable failure; doubles up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Checked before each wait and after it: true gives up, rethrowing the last error (shutdown, partition revoked). */
  readonly abandon?: () => boolean;
  /** Called after each wait, before trying again (e.g. a Kafka heartbeat, so the group keeps the member). */
  readonly onWait?: () => unknown;
  /** Called for each unavailable failure, with how long the work has been waiting for its dependency. */
  readonly onUnavailable?: (error: unknown, waitingMs: number) => void;
}

/**
 * Runs `work` again, with a capped backoff, for as long as it fails because a dependency is away
 * (`isUnavailable`); any other failure is thrown as it is. Wraps a bounded retry (withRetry) so that
 * an outage longer than its attempts pauses the work instead of exhausting them.
 */
export async function retryWhileUnavailable<T>(work: () => Promise<T>, options: WhileUnavailableOptions = {}): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? 1_000;
  let delayMs = Math.min(options.initialDelayMs ?? 200, maxDelayMs);
  let since: number | null = null;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isUnavailable(error) || options.abandon?.()) throw error;
      since ??= Date.now();
      options.onUnavailable?.(error, Date.now() - since);
      await sleep(delayMs);
      if (options.abandon?.()) throw error;
      delayMs = Math.min(delayMs * 2, maxDelayMs);
      await options.onWait?.();
    }
  }
}
