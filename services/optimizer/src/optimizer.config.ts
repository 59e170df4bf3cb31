import type { PlatformConfig } from '@flotilla/service-kit';
import * as path from 'node:path';
import { z } from 'zod';

/** The optimizer's own variables, validated at boot with the platform's. */
export const optimizerConfig = {
  /** The price sheet (JSON, see README): validated at start; a bad one stops the service naming each problem. */
  PRICE_SHEET_FILE: z.string().default(path.resolve(__dirname, '../config/price-sheet.json')),
  /**
   * How long after an execution's end the costs of attempts it started are still waited for: then its
   * cost is final anyway, with the attempts that never reported (their worker died) counted missing.
   */
  EXECUTION_COST_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** How often the recommendations are recomputed from the pools' metrics. */
  RECOMMENDATION_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** The window of metrics a recommendation looks at, and the samples it needs in it. */
  RECOMMENDATION_WINDOW_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  RECOMMENDATION_MIN_SAMPLES: z.coerce.number().int().min(1).default(10),
  /** A pool busy less than this fraction of its slot-time over the window is over-provisioned. */
  OVER_PROVISIONED_BELOW: z.coerce.number().min(0).max(1).default(0.3),
};

export type OptimizerConfig = PlatformConfig & z.infer<z.ZodObject<typeof optimizerConfig>>;
