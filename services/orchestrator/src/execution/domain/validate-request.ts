import { isAgentType, type ExecutionRequested, type TaskSpec } from '@flotilla/contracts';
import type { ExecutionSettings } from './policies';

/**
 * The DAG an execution runs: the request's own tasks when it carries them, else its kind's workflow
 * from the configuration. Null when neither gives one.
 */
export function resolveWorkflow(request: ExecutionRequested, settings: ExecutionSettings): readonly TaskSpec[] | null {
  if (request.tasks.length > 0) return request.tasks;
  return (request.kind && settings.workflows[request.kind]) || null;
}

/** Every problem with a request, each naming the field; empty when the request can be admitted. */
export function validateExecutionRequest(request: ExecutionRequested, settings: ExecutionSettings): string[] {
  const problems: string[] = [];
  if (!request.executionId.trim()) problems.push('executionId must not be empty');
  if (!request.customerId?.trim()) problems.push('customerId is required');
  if (!request.kind?.trim()) problems.push('kind is required');
  else if (request.tasks.length === 0 && !settings.workflows[request.kind]) {
    problems.push(`kind "${request.kind}" is not a known workflow (${Object.keys(settings.workflows).join(', ')}) and the request carries no tasks`);
  }
  if (request.contractValue !== null && !(request.contractValue >= 0)) problems.push('contractValue must be zero or positive');
  if (request.tier !== null && request.tier !== 'standard' && request.tier !== 'premium') problems.push(`tier must be standard or premium, got "${request.tier}"`);

  const tasks = request.tasks;
  const ids = new Set<string>();
  tasks.forEach((task, index) => {
    const where = `tasks[${index}]`;
    if (!task.taskId.trim()) problems.push(`${where}.taskId must not be empty`);
    else if (ids.has(task.taskId)) problems.push(`${where}.taskId "${task.taskId}" is used twice`);
    ids.add(task.taskId);
    if (!isAgentType(task.agentType)) problems.push(`${where}.agentType "${task.agentType}" is not a known agent type`);
  });
  tasks.forEach((task, index) => {
    for (const dependency of task.dependsOn) {
      if (!ids.has(dependency)) problems.push(`tasks[${index}].dependsOn names unknown task "${dependency}"`);
    }
  });
  const cycle = findCycle(tasks);
  if (cycle) problems.push(`tasks form a cycle: ${cycle.join(' -> ')}`);
  return problems;
}

/** Tasks that depend, directly or through others, on `taskId`. */
export function downstreamOf(tasks: readonly TaskSpec[], taskId: string): string[] {
  const result = new Set<string>();
  const visit = (id: string) => {
    for (const t of tasks) {
      if (t.dependsOn.includes(id) && !result.has(t.taskId)) {
        result.add(t.taskId);
        visit(t.taskId);
      }
    }
  };
  visit(taskId);
  return tasks.map((t) => t.taskId).filter((id) => result.has(id));
}

function findCycle(tasks: readonly TaskSpec[]): string[] | null {
  const edges = new Map(tasks.map((t) => [t.taskId, t.dependsOn]));
  const visiting = new Set<string>();
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (done.has(id)) return null;
    if (visiting.has(id)) return [...path.slice(path.indexOf(id)), id];
    visiting.add(id);
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    visiting.delete(id);
    done.add(id);
    return null;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return null;
}
