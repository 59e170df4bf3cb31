import { TOPICS } from '@flotilla/contracts';
import { RATE_LIMITER, type ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import Redis from 'ioredis';
import * as path from 'node:path';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { PostgresCostQueries } from './costs/infrastructure/cost.queries';
import { ChangeFeed } from './live-stream/change-feed';
import { PostgresNotificationQueries } from './notifications/infrastructure/notification.queries';
import { COST_QUERIES, LIVE_PROJECTOR, NOTIFICATION_QUERIES, READ_MODEL_CHANGES, READ_MODEL_QUERIES, REBUILD_SERVICE, SCALING_QUERIES } from './projection.constants';
import type { ProjectionConfig } from './projection.config';
import { CachedReadModelQueries } from './read-models/infrastructure/cached-queries';
import { Projector } from './read-models/infrastructure/projector';
import { PostgresReadModelQueries } from './read-models/infrastructure/read-model.queries';
import { KafkaTopicPositions } from './rebuild/infrastructure/kafka-topic-positions';
import { PostgresGenerations } from './rebuild/infrastructure/postgres-generations';
import { RebuildService } from './rebuild/rebuild.service';
import { PostgresScalingQueries } from './scaling/infrastructure/scaling.queries';
import { JaegerTraces } from './traces/infrastructure/jaeger-traces';
import { EXECUTION_TRACES } from './traces/traces.constants';

/**
 * Every topic the read models are built from. The pool metrics keep 30 days: a rebuild after that
 * starts their minutes where the topic does (retention's truncation is reported as for any topic).
 */
export const READ_MODEL_TOPICS = [
  TOPICS.executions,
  TOPICS.taskEvents,
  TOPICS.alerts,
  TOPICS.admission,
  TOPICS.costs,
  TOPICS.budgets,
  TOPICS.recommendations,
  TOPICS.scaling,
  TOPICS.poolEvents,
  TOPICS.poolMetrics,
  TOPICS.notifications,
];

export const MIGRATIONS_DIR = path.resolve(__dirname, '../migrations');

/** The projection's composition root: Redis (cache, rate limit), the read models over PostgreSQL, the change feed, the rebuild, Jaeger's traces. */
export function projectionProviders({ platform, config }: ServiceContext<ProjectionConfig>): { providers: Provider[]; close: () => Promise<void> } {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => platform.logger.warn({ err: error }, 'Redis connection error'));
  const prefix = platform.namespace ?? 'flotilla';
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:rate`, points: config.RATE_LIMIT_PER_SECOND, duration: 1 });
  const feed = new ChangeFeed();
  const database = new PostgresReadModelQueries(platform.pool, platform.store.schema, config.ADMISSION_CAPACITY);
  const queries = config.READ_CACHE_TTL_MS > 0 ? new CachedReadModelQueries(database, redis, `${prefix}:projection`, feed, config.READ_CACHE_TTL_MS) : database;
  const costs = new PostgresCostQueries(platform.pool, platform.store.schema);
  const scaling = new PostgresScalingQueries(platform.pool, platform.store.schema);
  const notifications = new PostgresNotificationQueries(platform.pool, platform.store.schema);
  const live = new Projector(platform.pool, platform.store.schema, feed);
  const topics = READ_MODEL_TOPICS.map((t) => platform.topic(t.name));
  const generations = new PostgresGenerations(platform.pool, MIGRATIONS_DIR);
  const rebuild = new RebuildService(platform, feed, { schema: platform.store.schema, topics }, generations, new KafkaTopicPositions(platform.kafka));
  const traces = new JaegerTraces({ baseUrl: config.JAEGER_QUERY_URL, timeoutMs: config.JAEGER_QUERY_TIMEOUT_MS });
  return {
    // Factories, not useValue: Nest would otherwise walk these objects to compute the module token.
    providers: [
      { provide: LIVE_PROJECTOR, useFactory: () => live },
      { provide: REBUILD_SERVICE, useFactory: () => rebuild },
      { provide: READ_MODEL_QUERIES, useFactory: () => queries },
      { provide: COST_QUERIES, useFactory: () => costs },
      { provide: SCALING_QUERIES, useFactory: () => scaling },
      { provide: NOTIFICATION_QUERIES, useFactory: () => notifications },
      { provide: READ_MODEL_CHANGES, useFactory: () => feed },
      { provide: RATE_LIMITER, useFactory: () => limiter },
      { provide: EXECUTION_TRACES, useFactory: () => traces },
    ],
    // Before the platform closes the database pool: a running rebuild stops consuming first.
    close: async () => {
      await rebuild.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
