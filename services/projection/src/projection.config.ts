import type { PlatformConfig } from '@flotilla/service-kit';
import { z } from 'zod';

/** The projection's own variables, validated at boot with the platform's. */
export const projectionConfig = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(1).default(50),
  // How long a cached overview or card may be served at most; 0 turns the cache off (benchmarks).
  READ_CACHE_TTL_MS: z.coerce.number().int().min(0).default(2_000),
  // Until the first AdmissionCapacityChanged is read: the orchestrator's configured default.
  ADMISSION_CAPACITY: z.coerce.number().int().min(1).default(5),
  // Jaeger's HTTP query API, read for GET /v1/executions/:id/trace; a lookup taking longer answers 503.
  JAEGER_QUERY_URL: z.string().url().default('http://127.0.0.1:16686'),
  JAEGER_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
};

export type ProjectionConfig = PlatformConfig & z.infer<z.ZodObject<typeof projectionConfig>>;
