import { AGENT_TYPES, isAgentType } from '@flotilla/contracts';
import type { PlatformConfig } from '@flotilla/service-kit';
import { z } from 'zod';

/** The scaler's own variables, validated at boot with the platform's. */
export const scalerConfig = {
  /** How often each pool with a policy is evaluated (HPA's sync period is 15 s). */
  SCALER_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  /** A worker's metrics report older than this no longer counts (it left, or died). */
  METRICS_STALE_AFTER_MS: z.coerce.number().int().min(1_000).default(20_000),
  /** Pools the scaler may act on (their replicas are provisioned by the agent pool); others are evaluated in shadow only. */
  SCALED_AGENT_TYPES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .refine((types) => types.every(isAgentType), { message: `must list known agent types (${AGENT_TYPES.join(', ')})` }),
  /** The worker-hour price (micro-units) a scale saga reserves at before the optimizer's price sheet has been heard (flotilla.prices); the sheet's default. */
  WORKER_HOUR_PRICE_MICROS: z.coerce.number().int().min(0).default(140_000),
};

export type ScalerConfig = PlatformConfig & z.infer<z.ZodObject<typeof scalerConfig>>;
