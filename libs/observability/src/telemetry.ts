import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

export interface TelemetryOptions {
  readonly serviceName: string;
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318; tracing is off when absent. */
  readonly otlpEndpoint: string | undefined;
  readonly exportDelayMs?: number;
}

export interface Telemetry {
  /** Flushes buffered spans and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry with an OTLP exporter to Jaeger. Call it first in `instrumentation.ts`, before
 * anything else is imported, so that HTTP instrumentation can hook the modules it patches.
 */
export function startTelemetry({ serviceName, otlpEndpoint, exportDelayMs = 500 }: TelemetryOptions): Telemetry {
  // OTEL_SDK_DISABLED=true is OpenTelemetry's own switch; sampling is its OTEL_TRACES_SAMPLER(_ARG),
  // read by the SDK (e.g. parentbased_traceidratio with 0.1 keeps a tenth of the traces, whole).
  if (!otlpEndpoint || process.env.OTEL_SDK_DISABLED === 'true') return { shutdown: async () => undefined };
  // Metrics are served by prom-client on /metrics and logs go to stdout: only traces leave over OTLP.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const exporter = new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, '')}/v1/traces` });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: '0.1.0' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: exportDelayMs, maxQueueSize: 16_384, maxExportBatchSize: 1_024 })],
    instrumentations: [new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => ['/health', '/ready', '/metrics'].includes(req.url ?? '') })],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
