import { FlotillaError } from '@flotilla/domain';
import type { ExecutionTrace } from './domain/execution-trace';

/** Where to look for an execution's spans: the time its spans can have started in. */
export interface TraceWindow {
  readonly from: Date;
  readonly to: Date;
}

/**
 * The trace store, as the traces feature needs it: the spans of every trace whose spans carry
 * `flotilla.correlation_id` = the execution id, merged (domain/execution-trace.ts). Null when the
 * store has none (yet: spans reach it a few seconds after they end). Throws a
 * TraceStoreUnavailableError when the store cannot be asked.
 */
export interface ExecutionTraces {
  find(executionId: string, window: TraceWindow): Promise<ExecutionTrace | null>;
}

/** The trace store is unreachable, too slow, or answered with an error: asking again later may work (→ 503). */
export class TraceStoreUnavailableError extends FlotillaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'TRACE_STORE_UNAVAILABLE', true, options);
  }
}
