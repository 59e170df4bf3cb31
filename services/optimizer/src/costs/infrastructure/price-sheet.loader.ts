import * as fs from 'node:fs';
import { z } from 'zod';
import type { PriceSheet, Prices } from '@flotilla/contracts';

/** Money: a whole number of micro-units, never a float; at most a million dollars an hour per unit. */
const micros = z.number().int('must be a whole number of micro-units').min(0, 'must not be negative').max(1_000_000_000_000);
const requested = z.object({ cpuCores: z.number().min(0).max(1_024), memoryGb: z.number().min(0).max(65_536) }).strict();
const prices = z
  .object({
    cpuCoreHourMicros: micros,
    memoryGbHourMicros: micros,
    workerHourMicros: micros,
    perTaskMicros: micros.default(0),
    perUnitMicros: z.record(micros).default({}),
    requested,
  })
  .strict();
const overrides = z
  .object({
    cpuCoreHourMicros: micros.optional(),
    memoryGbHourMicros: micros.optional(),
    workerHourMicros: micros.optional(),
    perTaskMicros: micros.optional(),
    perUnitMicros: z.record(micros).optional(),
    requested: requested.partial().optional(),
  })
  .strict();
const sheetSchema = z.object({ currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'), default: prices, agentTypes: z.record(overrides).default({}) }).strict();

/**
 * Reads and validates the price sheet. A bad one stops the optimizer with the variable that names
 * the file and the path of every problem in it: costs computed from a wrong sheet would be wrong
 * for every attempt until someone noticed.
 */
export function loadPriceSheet(variable: string, file: string): PriceSheet {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${variable}: cannot read the price sheet ${file}: ${(error as Error).message}`);
  }
  const parsed = sheetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${variable}: invalid price sheet ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  }
  const sheet = parsed.data;
  return { currency: sheet.currency, default: sheet.default as Prices, agentTypes: sheet.agentTypes as PriceSheet['agentTypes'] };
}
