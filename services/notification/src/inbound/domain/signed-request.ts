import type { ExecutionRequested, ReviewRequested, TaskSpec } from '@flotilla/contracts';
import type { FieldProblem } from '@flotilla/domain';
import { v5 as uuidv5 } from 'uuid';

/** A producer allowed to ask over HTTP: its secrets (Standard Webhooks) and the one customer it acts for. */
export interface InboundSender {
  readonly id: string;
  readonly customerId: string;
  readonly secrets: readonly string[];
}

const EXECUTION_ID_NAMESPACE = '0b4bbd2e-8c55-4a5e-9a3e-6f3f5a2d9c71';

export type SignedRequestDecision =
  | { readonly kind: 'execution'; readonly request: ExecutionRequested }
  | { readonly kind: 'review'; readonly request: ReviewRequested }
  | { readonly kind: 'invalid'; readonly problems: readonly FieldProblem[] };

/**
 * A verified request from a configured sender, as Standard Webhooks shapes it: `{type, timestamp,
 * data}`. `execution.requested` carries an execution request (kind, tasks, deadline, tier, contract
 * value, and optionally its own executionId); `review.requested` a review request. The customer is
 * always the sender's own, whatever the body says: a sender cannot act for another customer. An
 * execution without an id gets one derived from the sender and the message id, so a message sent
 * again requests nothing twice.
 */
export function decideSignedRequest(sender: InboundSender, messageId: string, body: unknown, now: number): SignedRequestDecision {
  const problems: FieldProblem[] = [];
  const message = body as { type?: unknown; data?: unknown } | null;
  if (!message || typeof message !== 'object' || Array.isArray(message)) return { kind: 'invalid', problems: [{ field: '(body)', problem: 'must be a JSON object {type, timestamp, data}' }] };
  const data = (message.data ?? null) as Record<string, unknown> | null;
  if (!data || typeof data !== 'object' || Array.isArray(data)) problems.push({ field: 'data', problem: 'must be an object' });
  if (message.type !== 'execution.requested' && message.type !== 'review.requested') problems.push({ field: 'type', problem: 'must be execution.requested or review.requested' });
  if (problems.length > 0 || !data) return { kind: 'invalid', problems };

  const str = (field: string, value: unknown, required: boolean): string | null => {
    if (value === undefined || value === null) {
      if (required) problems.push({ field: `data.${field}`, problem: 'is required' });
      return null;
    }
    if (typeof value !== 'string' || value.length === 0 || value.length > 500) {
      problems.push({ field: `data.${field}`, problem: 'must be a non-empty string of at most 500 characters' });
      return null;
    }
    return value;
  };
  const num = (field: string, value: unknown): number | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push({ field: `data.${field}`, problem: 'must be a number' });
      return null;
    }
    return value;
  };

  if (message.type === 'review.requested') {
    const pullRequestNumber = data.pullRequestNumber;
    if (typeof pullRequestNumber !== 'number' || !Number.isInteger(pullRequestNumber) || pullRequestNumber <= 0) problems.push({ field: 'data.pullRequestNumber', problem: 'must be a positive whole number' });
    const request = {
      repositoryId: str('repositoryId', data.repositoryId, true),
      repositoryName: str('repositoryName', data.repositoryName, true),
      headCommit: str('headCommit', data.headCommit, true),
      title: str('title', data.title, false),
      url: str('url', data.url, false),
      requestedBy: str('requestedBy', data.requestedBy, false),
    };
    // A commit SHA, lower-cased as the GitHub route has it: the review's id is keyed on it, so the same
    // commit from two routes (or in two cases) must be one review.
    if (request.headCommit !== null && !/^[0-9a-f]{7,64}$/i.test(request.headCommit)) problems.push({ field: 'data.headCommit', problem: 'must be a commit SHA (7 to 64 hexadecimal digits)' });
    if (problems.length > 0) return { kind: 'invalid', problems };
    return {
      kind: 'review',
      request: {
        repositoryId: request.repositoryId!,
        repositoryName: request.repositoryName!,
        pullRequestNumber: pullRequestNumber as number,
        headCommit: request.headCommit!.toLowerCase(),
        requestedBy: request.requestedBy ?? `webhook:${sender.id}`,
        customerId: sender.customerId,
        title: request.title,
        url: request.url,
        source: `webhook:${sender.id}:${messageId}`,
        requestedAt: now,
      },
    };
  }

  const tasks = data.tasks === undefined ? [] : data.tasks;
  if (!Array.isArray(tasks)) problems.push({ field: 'data.tasks', problem: 'must be an array of {taskId, agentType, dependsOn?, input?}' });
  const taskSpecs: TaskSpec[] = (Array.isArray(tasks) ? tasks : []).map((raw: unknown, i): TaskSpec => {
    const t = (raw ?? {}) as Record<string, unknown>;
    const input = t.input === undefined ? {} : t.input;
    const inputOk = input !== null && typeof input === 'object' && !Array.isArray(input) && Object.values(input).every((v) => typeof v === 'string');
    if (!inputOk) problems.push({ field: `data.tasks[${i}].input`, problem: 'must be an object of strings' });
    const dependsOn = t.dependsOn === undefined ? [] : t.dependsOn;
    if (!Array.isArray(dependsOn) || !dependsOn.every((d) => typeof d === 'string')) problems.push({ field: `data.tasks[${i}].dependsOn`, problem: 'must be an array of task ids' });
    return { taskId: str(`tasks[${i}].taskId`, t.taskId, true) ?? '', agentType: str(`tasks[${i}].agentType`, t.agentType, true) ?? '', dependsOn: Array.isArray(dependsOn) ? (dependsOn as string[]) : [], input: inputOk ? (input as Record<string, string>) : {} };
  });
  const execution = {
    executionId: str('executionId', data.executionId, false) ?? uuidv5(`${sender.id}/${messageId}`, EXECUTION_ID_NAMESPACE),
    kind: str('kind', data.kind, false),
    tier: str('tier', data.tier, false),
    contractValue: num('contractValue', data.contractValue),
    deadlineAt: num('deadlineAt', data.deadlineAt),
  };
  if (problems.length > 0) return { kind: 'invalid', problems };
  // The orchestrator validates the workflow itself (agent types, the DAG) and rejects it with its reasons.
  return { kind: 'execution', request: { ...execution, customerId: sender.customerId, tasks: taskSpecs, requestedAt: now } };
}
