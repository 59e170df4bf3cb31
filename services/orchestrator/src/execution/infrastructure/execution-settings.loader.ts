import * as fs from 'node:fs';
import { z } from 'zod';
import { DEFAULT_ADMISSION_POLICY as D } from '../../admission/domain/admission-policy';
import type { ExecutionSettings } from '../domain/policies';

const retryPolicy = z.object({
  initialIntervalMs: z.number().int().min(0),
  backoffCoefficient: z.number().min(1),
  maximumIntervalMs: z.number().int().min(0),
  maximumAttempts: z.number().int().min(0),
  nonRetryableErrorKinds: z.array(z.string()).default([]),
});
const timeouts = z.object({ scheduleToStartMs: z.number().int().min(0), startToCloseMs: z.number().int().min(0), heartbeatMs: z.number().int().min(0) });
const taskSpec = z.object({ taskId: z.string().min(1), agentType: z.string().min(1), dependsOn: z.array(z.string()).default([]), input: z.record(z.string()).default({}) });

const admission = z
  .object({
    capacity: z.number().int().min(1).max(10_000).default(D.capacity),
    perCustomerLimit: z.number().int().min(1).default(D.perCustomerLimit),
    customerLimits: z.record(z.number().int().min(1)).default({}),
    agingPointsPerMinute: z.number().min(0).default(D.agingPointsPerMinute),
    queueSlaMs: z.number().int().min(1).default(D.queueSlaMs),
    circuitBreaker: z
      .object({
        failureThreshold: z.number().int().min(1).default(D.circuitBreaker.failureThreshold),
        coolOffMs: z.number().int().min(0).default(D.circuitBreaker.coolOffMs),
        whileOpen: z.enum(['hold', 'reject']).default(D.circuitBreaker.whileOpen),
      })
      .default({}),
  })
  .default({});

const settingsSchema = z.object({
  workflows: z.record(z.array(taskSpec).min(1)),
  defaultRetryPolicy: retryPolicy,
  retryPolicies: z.record(retryPolicy).default({}),
  defaultTimeouts: timeouts,
  timeouts: z.record(timeouts).default({}),
  admission,
});

/** Reads and validates the workflows and task policies; a bad file stops the orchestrator with the path of each problem. */
export function loadExecutionSettings(file: string, overrides: { readonly capacity?: number; readonly perCustomerLimit?: number } = {}): ExecutionSettings {
  const parsed = settingsSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid execution settings in ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  const settings = parsed.data;
  return {
    ...settings,
    admission: {
      ...settings.admission,
      capacity: overrides.capacity ?? settings.admission.capacity,
      perCustomerLimit: overrides.perCustomerLimit ?? settings.admission.perCustomerLimit,
    },
  };
}
