import { telemetry } from './instrumentation';
import { EVENT_SCHEMAS, TOPICS } from '@flotilla/contracts';
import { KafkaEventsTransport } from '@flotilla/messaging';
import { loadConfig, Platform, PlatformModule, platformConfigSchema, runService } from '@flotilla/service-kit';
import { Module, type BeforeApplicationShutdown } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import Redis from 'ioredis';
import * as path from 'node:path';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { z } from 'zod';
import { ReadModelHandlers } from './application/read-model.handlers';
import { AuthGuard, RATE_LIMITER } from './http/auth/auth.guard';
import { JwtAuthenticator } from './http/auth/jwt.authenticator';
import { DEVELOPMENT_JWT_SECRET } from './http/auth/tokens';
import { AUTHENTICATOR } from './http/auth/principal';
import { ReadModelsController } from './http/read-models.controller';
import { PostgresReadModelQueries } from './infrastructure/read-model.queries';
import { LIVE_PROJECTOR, READ_MODEL_CHANGES, READ_MODEL_QUERIES, REBUILD_SERVICE } from './projection.constants';
import { Projector } from './application/projector';
import { RebuildService } from './application/rebuild.service';
import { RebuildController } from './http/rebuild.controller';
import { ChangeFeed } from './application/change-feed';
import { CachedReadModelQueries } from './infrastructure/cached-queries';
import { StreamController } from './http/stream.controller';
import { DashboardController } from './http/dashboard/dashboard.controller';


const projectionConfigSchema = platformConfigSchema.extend({
  HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(3000),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  AUTH_JWT_ALGORITHM: z.enum(['HS256', 'RS256']).default('HS256'),
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().optional(),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
  RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(1).default(50),
  // How long a cached overview or card may be served at most; 0 turns the cache off (benchmarks).
  READ_CACHE_TTL_MS: z.coerce.number().int().min(0).default(2_000),
  // Until the first AdmissionCapacityChanged is read: the orchestrator's configured default.
  ADMISSION_CAPACITY: z.coerce.number().int().min(1).default(5),
});

void runService(telemetry, async () => {
  const config = loadConfig(projectionConfigSchema);
  const platform = new Platform({
    serviceName: 'projection',
    config,
    eventSchemas: EVENT_SCHEMAS,
    telemetry,
    serviceMigrationsDir: path.resolve(__dirname, '../migrations'),
  });
  if (config.AUTH_JWT_ALGORITHM === 'HS256' && !config.AUTH_JWT_SECRET) platform.logger.warn('AUTH_JWT_SECRET is not set: using the development secret; set it anywhere but a laptop');
  const authenticator = await JwtAuthenticator.create({
    algorithm: config.AUTH_JWT_ALGORITHM,
    secret: config.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
    publicKey: config.AUTH_JWT_PUBLIC_KEY,
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
  });
  const redis = new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => platform.logger.warn({ err: error }, 'Redis connection error'));
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${platform.namespace ?? 'flotilla'}:rate`, points: config.RATE_LIMIT_PER_SECOND, duration: 1 });
  const feed = new ChangeFeed();
  const database = new PostgresReadModelQueries(platform.pool, platform.store.schema, config.ADMISSION_CAPACITY);
  const queries =
    config.READ_CACHE_TTL_MS > 0 ? new CachedReadModelQueries(database, redis, `${platform.namespace ?? 'flotilla'}:projection`, feed, config.READ_CACHE_TTL_MS) : database;

  const readModelTopics = [TOPICS.executions, TOPICS.taskEvents, TOPICS.alerts, TOPICS.admission].map((t) => platform.topic(t.name));
  const live = new Projector(platform.pool, platform.store.schema, feed);
  const rebuild = new RebuildService(platform, feed, { schema: platform.store.schema, topics: readModelTopics, migrationsDir: path.resolve(__dirname, '../migrations') });
  const transport = new KafkaEventsTransport((handler) =>
    platform.createConsumer({
      name: 'read-models',
      topics: readModelTopics,
      // In offset order per partition: the projection's checkpoints (last offset applied) rely on it.
      ordering: 'partition',
      handler,
    }),
  );

  @Module({
    imports: [PlatformModule.forPlatform(platform)],
    controllers: [ReadModelHandlers, ReadModelsController, StreamController, DashboardController, RebuildController],
    providers: [
      { provide: LIVE_PROJECTOR, useFactory: () => live },
      { provide: REBUILD_SERVICE, useFactory: () => rebuild },
      // Factories, not useValue: Nest would otherwise walk these objects to compute the module token.
      { provide: READ_MODEL_QUERIES, useFactory: () => queries },
      { provide: READ_MODEL_CHANGES, useFactory: () => feed },
      { provide: AUTHENTICATOR, useFactory: () => authenticator },
      { provide: RATE_LIMITER, useFactory: () => limiter },
      AuthGuard,
    ],
  })
  class AppModule implements BeforeApplicationShutdown {
    // Before the platform module closes the database pool: a running rebuild stops consuming first.
    async beforeApplicationShutdown(): Promise<void> {
      await rebuild.stop();
      await redis.quit().catch(() => redis.disconnect());
    }
  }

  return {
    platform,
    module: AppModule,
    transports: [transport],
    configure: (app: NestFastifyApplication) => {
      const document = SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('Flotilla query API')
          .setDescription('Read models of executions, customers, alerts and SLA violations; a live stream of their changes. Bearer JWT: role ops sees all, role customer its own data.')
          .setVersion('1')
          .addBearerAuth()
          .build(),
      );
      SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
    },
  };
});
