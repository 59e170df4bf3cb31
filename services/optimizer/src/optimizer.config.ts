import type { PlatformConfig } from '@flotilla/service-kit';
import * as path from 'node:path';
import { z } from 'zod';

/** The optimizer's own variables, validated at boot with the platform's. */
export const optimizerConfig = {
  /** The price sheet (JSON, see README): validated at start; a bad one stops the service naming each problem. */
  PRICE_SHEET_FILE: z.string().default(path.resolve(__dirname, '../config/price-sheet.json')),
};

export type OptimizerConfig = PlatformConfig & z.infer<z.ZodObject<typeof optimizerConfig>>;
