import { z } from 'zod';
import { authConfigShape } from './http/auth-config';
import { kafkaConnectionShape } from './kafka-connection';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** Variables every service reads. Each problem names the variable. */
export const platformConfigSchema = z.object({
  KAFKA_BROKERS: z
    .string({ required_error: 'is required (comma-separated host:port list)' })
    .refine((v) => v.split(',').every((b) => hostPort.test(b.trim())), 'must be a comma-separated list of host:port')
    .transform((v) => v.split(',').map((b) => b.trim())),
  ...kafkaConnectionShape,
  SCHEMA_REGISTRY_URL: z.string({ required_error: 'is required' }).url('must be a URL'),
  DATABASE_URL: z
    .string({ required_error: 'is required' })
    .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url('must be a URL').optional(),
  HTTP_PORT: z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be an integer').min(0).max(65535),
  HTTP_HOST: z.string().default('127.0.0.1'),
  FLOTILLA_NAMESPACE: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,30}$/, 'must be lower-case letters, digits and _ (at most 31), starting with a letter')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  ...authConfigShape,
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

/** Parses the environment strictly; a bad value throws a ConfigError naming every bad variable. */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`));
}
