import * as fs from 'node:fs';
import { z } from 'zod';
import { ChildProcessExecutor } from './child-process.executor';
import { HttpExecutor } from './http.executor';
import { SyntheticExecutor, type SyntheticExecutorOptions } from './synthetic.executor';
import type { TaskExecutor } from '../task-executor';

const executorSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('synthetic') }),
  z.object({
    type: z.literal('process'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    env: z.record(z.string()).optional(),
    timeoutMs: z.number().int().positive(),
    maxOutputBytes: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('http'), url: z.string().url(), timeoutMs: z.number().int().positive(), headers: z.record(z.string()).optional() }),
]);
const registrySchema = z.record(executorSchema).refine((r) => 'default' in r, { message: 'must have a "default" entry' });

/** Which executor runs each agent type, from a JSON file: `{ "default": {…}, "<agent type>": {…} }`. */
export function loadExecutors(file: string, synthetic: SyntheticExecutorOptions): (agentType: string) => TaskExecutor {
  const parsed = registrySchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`invalid executors in ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
  const executors = new Map<string, TaskExecutor>();
  for (const [agentType, spec] of Object.entries(parsed.data)) {
    executors.set(
      agentType,
      spec.type === 'synthetic' ? new SyntheticExecutor(synthetic) : spec.type === 'process' ? new ChildProcessExecutor(spec) : new HttpExecutor(spec),
    );
  }
  const fallback = executors.get('default')!;
  return (agentType) => executors.get(agentType) ?? fallback;
}
