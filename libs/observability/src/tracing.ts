import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';

const tracer = () => trace.getTracer('@flotilla/flotilla');

/** The W3C trace context of the active span, for an event about to be written to the outbox. */
export function currentTraceContext(): { traceparent: string | null; tracestate: string | null } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return { traceparent: carrier.traceparent ?? null, tracestate: carrier.tracestate ?? null };
}

export function contextFromTraceparent(traceparent: string | null, tracestate: string | null): Context {
  if (!traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent };
  if (tracestate) carrier.tracestate = tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Runs `work` in a span; records the error and rethrows. */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };

/**
 * Records an instantaneous span under `parent` and returns its trace context, so that what is sent
 * next (a Kafka message) becomes its child.
 */
export function recordSpan(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent: Context },
): { traceparent: string | null; tracestate: string | null } {
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, options.parent);
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(options.parent, span), carrier);
  span.end();
  return { traceparent: carrier.traceparent ?? null, tracestate: carrier.tracestate ?? null };
}
