import * as fs from 'node:fs';
import { z } from 'zod';
import type { ExecutionSettings } from '../domain/execution/policies';

const retryPolicy = z.object({
  initialIntervalMs: z.number().int().min(0),
  backoffCoefficient: z.number().min(1),
  maximumIntervalMs: z.number().int().min(0),
  maximumAttempts: z.number().int().min(0),
  nonRetryableErrorKinds: z.array(z.string()).default([]),
});
const timeouts = z.object({ scheduleToStartMs: z.number().int().min(0), startToCloseMs: z.number().int().min(0), heartbeatMs: z.number().int().min(0) });
const taskSpec = z.object({ taskId: z.string().min(1), agentType: z.string().min(1), dependsOn: z.array(z.string()).default([]), input: z.record(z.string()).default({}) });

const settingsSchema = z.object({
  workflows: z.record(z.array(taskSpec).min(1)),
  defaultRetryPolicy: retryPolicy,
  retryPolicies: z.record(retryPolicy).default({}),
  defaultTimeouts: timeouts,
  timeouts: z.record(timeouts).default({}),
});

/** Reads and validates the workflows and task policies; a bad file stops the orchestrator with the path of each problem. */
export function loadExecutionSettings(file: string): ExecutionSettings {
  const parsed = settingsSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`invalid execution settings in ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
