import { assembleExecutionTrace, type ExecutionTrace, type RecordedSpan, type SpanAttribute } from '../domain/execution-trace';
import { TraceStoreUnavailableError, type ExecutionTraces, type TraceWindow } from '../execution-traces';

/** Jaeger's JSON model (its HTTP query API, `/api/traces`), as far as it is read here. */
interface JaegerKeyValue {
  readonly key: string;
  readonly type?: string;
  readonly value: unknown;
}
interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references?: readonly { readonly refType: string; readonly traceID: string; readonly spanID: string }[] | null;
  readonly startTime: number;
  readonly duration: number;
  readonly tags?: readonly JaegerKeyValue[] | null;
  readonly logs?: readonly { readonly fields?: readonly JaegerKeyValue[] | null }[] | null;
  readonly processID: string;
}
interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string }>>;
}
interface JaegerResponse {
  readonly data: readonly JaegerTrace[] | null;
  readonly errors?: readonly { readonly code?: number; readonly msg?: string }[] | null;
}

/** Tags worth showing beside a span; the rest (host, process, network details) stay in Jaeger. */
const KEPT_TAGS = new Set([
  'span.kind',
  'messaging.destination.name',
  'messaging.kafka.destination.partition',
  'messaging.kafka.message.offset',
  'messaging.consumer.group.name',
  'http.request.method',
  'http.route',
  'url.path',
  'http.response.status_code',
  'db.operation.name',
]);
const keepTag = (key: string) => key.startsWith('flotilla.') || KEPT_TAGS.has(key);

export interface JaegerTracesOptions {
  /** Base URL of Jaeger's query service, e.g. http://127.0.0.1:16686. */
  readonly baseUrl: string;
  /** The whole lookup (search and every trace fetched) must finish within this. */
  readonly timeoutMs?: number;
  /** The service whose spans are searched for the correlation id: every execution has spans there. */
  readonly searchService?: string;
  /** At most this many traces are merged into one execution's. */
  readonly maxTraces?: number;
}

/**
 * An execution's trace read from Jaeger's HTTP query API: a search by the `flotilla.correlation_id`
 * tag for the trace ids, then each trace by id (the search may return partial traces on some
 * backends), converted to the compact model and merged.
 */
export class JaegerTraces implements ExecutionTraces {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly searchService: string;
  private readonly maxTraces: number;

  constructor({ baseUrl, timeoutMs = 5_000, searchService = 'orchestrator', maxTraces = 20 }: JaegerTracesOptions) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
    this.searchService = searchService;
    this.maxTraces = maxTraces;
  }

  async find(executionId: string, window: TraceWindow): Promise<ExecutionTrace | null> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const search = new URLSearchParams({
      service: this.searchService,
      tags: JSON.stringify({ 'flotilla.correlation_id': executionId }),
      start: String(window.from.getTime() * 1000),
      end: String(window.to.getTime() * 1000),
      limit: String(this.maxTraces),
    });
    const found = await this.get(`/api/traces?${search}`, signal);
    const traceIds = [...new Set((found?.data ?? []).map((t) => t.traceID))];
    if (traceIds.length === 0) return null;
    const traces = await Promise.all(traceIds.map((id) => this.get(`/api/traces/${encodeURIComponent(id)}`, signal)));
    return assembleExecutionTrace(
      executionId,
      traces.flatMap((answer) => (answer?.data ?? []).flatMap(spansOf)),
    );
  }

  /** One GET of the query API; null for its 404 (a trace evicted between search and fetch). */
  private async get(pathAndQuery: string, signal: AbortSignal): Promise<JaegerResponse | null> {
    const url = `${this.baseUrl}${pathAndQuery}`;
    let response: Response;
    try {
      response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    } catch (error) {
      throw new TraceStoreUnavailableError(`Jaeger's query API at ${this.baseUrl} ${describeFetchError(error, this.timeoutMs)}`, { cause: error });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    let body: JaegerResponse;
    try {
      body = (await response.json()) as JaegerResponse;
    } catch (error) {
      if (response.ok) throw new TraceStoreUnavailableError(`Jaeger's query API at ${this.baseUrl} answered ${response.status} with a body that is not JSON`, { cause: error });
      throw new TraceStoreUnavailableError(`Jaeger's query API at ${this.baseUrl} answered ${response.status} ${response.statusText}`, { cause: error });
    }
    if (!response.ok) {
      const reason = body.errors?.map((e) => e.msg).filter(Boolean).join('; ') || response.statusText;
      throw new TraceStoreUnavailableError(`Jaeger's query API at ${this.baseUrl} answered ${response.status}: ${reason}`);
    }
    return body;
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `did not answer within ${timeoutMs} ms`;
  // undici's "fetch failed" carries the socket error (ECONNREFUSED, ENOTFOUND, …) as its cause.
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return `is unreachable: ${cause?.code ?? cause?.message ?? (error as Error | undefined)?.message ?? String(error)}`;
}

function spansOf(trace: JaegerTrace): RecordedSpan[] {
  return trace.spans.map((span) => {
    const tags = new Map((span.tags ?? []).map((t) => [t.key, t.value]));
    const parent = span.references?.find((r) => r.refType === 'CHILD_OF' && r.traceID === span.traceID) ?? span.references?.find((r) => r.traceID === span.traceID);
    const statusCode = String(tags.get('otel.status_code') ?? '').toUpperCase();
    const failed = statusCode === 'ERROR' || tags.get('error') === true || tags.get('error') === 'true';
    const exception = (span.logs ?? []).flatMap((log) => log.fields ?? []).find((f) => f.key === 'exception.message')?.value;
    const attributes: Record<string, SpanAttribute> = {};
    for (const [key, value] of tags) {
      if (keepTag(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) attributes[key] = value;
    }
    return {
      traceId: span.traceID,
      spanId: span.spanID,
      parentSpanId: parent?.spanID ?? null,
      service: trace.processes[span.processID]?.serviceName ?? 'unknown',
      operation: span.operationName,
      startTimeUs: span.startTime,
      durationUs: span.duration,
      attributes,
      status: failed ? 'error' : statusCode === 'OK' ? 'ok' : 'unset',
      error: failed ? String(tags.get('otel.status_description') ?? exception ?? 'error') : null,
    };
  });
}
