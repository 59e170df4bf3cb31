import type { PlatformConfig } from '@flotilla/service-kit';
import * as path from 'node:path';
import { z } from 'zod';

/** The orchestrator's own variables, validated at boot with the platform's. */
export const orchestratorConfig = {
  EXECUTION_SETTINGS_FILE: z.string().default(path.resolve(__dirname, '../config/execution-settings.json')),
  // Override the settings file's admission defaults (demo, benchmarks); the runtime value set by an
  // AdmissionCapacityChangeRequested event still wins over both.
  ADMISSION_CAPACITY: z.coerce.number().int().min(1).max(10_000).optional(),
  ADMISSION_PER_CUSTOMER_LIMIT: z.coerce.number().int().min(1).optional(),
};

export type OrchestratorConfig = PlatformConfig & z.infer<z.ZodObject<typeof orchestratorConfig>>;
