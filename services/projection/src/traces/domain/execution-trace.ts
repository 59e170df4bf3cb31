/**
 * An execution's trace as ops read it: the spans of every trace whose spans carry the execution's
 * correlation id, merged into one list sorted by start. Pure: the trace store (Jaeger) hands in the
 * spans it recorded; this works out depth, offsets and which trace is the main one.
 */

export type SpanAttribute = string | number | boolean;

/** One span as the trace store recorded it. */
export interface RecordedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The span it is a child of (null for a root); that span may belong to another service. */
  readonly parentSpanId: string | null;
  readonly service: string;
  readonly operation: string;
  /** Microseconds since the epoch. */
  readonly startTimeUs: number;
  readonly durationUs: number;
  readonly attributes: Readonly<Record<string, SpanAttribute>>;
  readonly status: 'ok' | 'error' | 'unset';
  /** Why the span failed (status description or exception message); null unless status is error. */
  readonly error: string | null;
}

export interface TraceSpan extends RecordedSpan {
  /** ISO-8601 start, to the millisecond (startTimeUs is exact). */
  readonly startTime: string;
  /** Microseconds from the first span of the execution's trace. */
  readonly offsetUs: number;
  /** 0 for a span whose parent is not among the spans (a root), else its parent's depth + 1. */
  readonly depth: number;
}

export interface ExecutionTrace {
  readonly executionId: string;
  /** The main trace: the one with the most spans (the earliest on a tie). */
  readonly traceId: string;
  /** Other traces with the execution's correlation id (a request sent twice, say); their spans are merged in. */
  readonly otherTraceIds: readonly string[];
  /** Services with spans, in order of their first span. */
  readonly services: readonly string[];
  readonly startTime: string;
  /** From the first span's start to the last span's end. */
  readonly durationUs: number;
  readonly spanCount: number;
  readonly errorCount: number;
  /** Sorted by start (parents before children that start at the same microsecond). */
  readonly spans: readonly TraceSpan[];
}

/** Merges the spans of an execution's traces; null when there are none. Duplicates (same trace and span id) count once. */
export function assembleExecutionTrace(executionId: string, recorded: readonly RecordedSpan[]): ExecutionTrace | null {
  const byKey = new Map<string, RecordedSpan>();
  for (const span of recorded) byKey.set(`${span.traceId}/${span.spanId}`, span);
  const spans = [...byKey.values()];
  if (spans.length === 0) return null;

  const depths = new Map<string, number>();
  const depthOf = (span: RecordedSpan): number => {
    const key = `${span.traceId}/${span.spanId}`;
    const known = depths.get(key);
    if (known !== undefined) return known;
    // Walk up to a root (or a parent not recorded), guarding against a cycle in malformed data.
    const chain: RecordedSpan[] = [];
    const seen = new Set<string>();
    let current: RecordedSpan | undefined = span;
    let base = -1;
    while (current) {
      const currentKey = `${current.traceId}/${current.spanId}`;
      const cached = depths.get(currentKey);
      if (cached !== undefined) {
        base = cached;
        break;
      }
      if (seen.has(currentKey)) break;
      seen.add(currentKey);
      chain.push(current);
      current = current.parentSpanId ? byKey.get(`${current.traceId}/${current.parentSpanId}`) : undefined;
    }
    for (let i = chain.length - 1; i >= 0; i--) depths.set(`${chain[i].traceId}/${chain[i].spanId}`, base + (chain.length - i));
    return depths.get(key)!;
  };

  const start = spans.reduce((min, s) => Math.min(min, s.startTimeUs), Infinity);
  const end = spans.reduce((max, s) => Math.max(max, s.startTimeUs + s.durationUs), -Infinity);
  const sorted = spans
    .map((span): TraceSpan => ({ ...span, startTime: new Date(Math.floor(span.startTimeUs / 1000)).toISOString(), offsetUs: span.startTimeUs - start, depth: depthOf(span) }))
    .sort((a, b) => a.startTimeUs - b.startTimeUs || a.depth - b.depth || a.spanId.localeCompare(b.spanId));

  const perTrace = new Map<string, { count: number; firstUs: number }>();
  for (const span of sorted) {
    const entry = perTrace.get(span.traceId);
    if (entry) entry.count++;
    else perTrace.set(span.traceId, { count: 1, firstUs: span.startTimeUs });
  }
  const traceIds = [...perTrace.entries()].sort(([, a], [, b]) => b.count - a.count || a.firstUs - b.firstUs).map(([id]) => id);

  return {
    executionId,
    traceId: traceIds[0],
    otherTraceIds: traceIds.slice(1),
    services: [...new Set(sorted.map((s) => s.service))],
    startTime: sorted[0].startTime,
    durationUs: end - start,
    spanCount: sorted.length,
    errorCount: sorted.filter((s) => s.status === 'error').length,
    spans: sorted,
  };
}
