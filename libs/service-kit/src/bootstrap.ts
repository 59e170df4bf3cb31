import 'reflect-metadata';
import type { DynamicModule, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Telemetry } from '@flotilla/observability';
import { ConfigError } from './config';
import { NestPinoLogger } from './nest-logger';
import { Histogram } from '@flotilla/observability';
import type { Platform } from './platform';

export interface ServiceDefinition {
  readonly platform: Platform;
  readonly module: Type<unknown> | DynamicModule;
  /** Event consumers exposed as Nest microservice transports (`@EventPattern` handlers). */
  readonly transports?: readonly CustomTransportStrategy[];
  /** Last touches to the HTTP application before it listens (e.g. an OpenAPI document). */
  readonly configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Keep each request's body as received (`request.rawBody`), for routes that verify a signature over it. */
  readonly rawBody?: boolean;
}

/**
 * Starts the platform, the HTTP server and the event transports, with graceful shutdown on SIGTERM
 * and SIGINT. Configuration errors print the offending variables and exit with status 78 (EX_CONFIG).
 */
export async function runService(telemetry: Telemetry, define: () => ServiceDefinition | Promise<ServiceDefinition>): Promise<NestFastifyApplication> {
  let definition: ServiceDefinition;
  try {
    definition = await define();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const { platform, module, transports = [], configure } = definition;
  const { config } = platform.options;
  try {
    await platform.start();
    const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter({ bodyLimit: 1_048_576, maxParamLength: 1_024 }), {
      logger: new NestPinoLogger(platform.logger),
      bufferLogs: false,
      rawBody: definition.rawBody ?? false,
    });
    app.enableShutdownHooks();
    observeHttpLatency(app, platform);
    for (const strategy of transports) app.connectMicroservice({ strategy }, { inheritAppConfig: true });
    await configure?.(app);
    // Listen before joining the consumer groups: joining can wait out a dead predecessor's Kafka
    // session, and meanwhile /health answers and /ready says what it is waiting for.
    await app.listen(config.HTTP_PORT, config.HTTP_HOST);
    platform.markConsumersJoining();
    await app.startAllMicroservices();
    platform.markConsumersJoined();
    platform.logger.info({ url: await app.getUrl() }, `${platform.options.serviceName} started`);
    return app;
  } catch (error) {
    platform.logger.fatal({ err: error }, `${platform.options.serviceName} failed to start`);
    await platform.stop().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    process.exit(1);
  }
}

/** `http_request_duration_seconds{method,route,status}` for every request the service answers. */
function observeHttpLatency(app: NestFastifyApplication, platform: Platform): void {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [platform.metrics],
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      histogram.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
}
