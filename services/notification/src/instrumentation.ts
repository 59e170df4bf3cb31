// First import of main.ts: tracing must be set up before anything it instruments is loaded.
import { startTelemetry } from '@flotilla/observability';

export const telemetry = startTelemetry({ serviceName: 'notification', otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT });
