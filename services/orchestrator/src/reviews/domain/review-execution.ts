import type { ExecutionRequested, ReviewRequested } from '@flotilla/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { ExecutionCommand } from '../../execution/domain/execution';
import type { ExecutionSettings } from '../../execution/domain/policies';
import { validateExecutionRequest } from '../../execution/domain/validate-request';

/** The kind of every review execution, and the workflow of the execution settings it runs. */
export const REVIEW_KIND = 'review';

/**
 * Namespaces of the UUIDv5 execution ids. Fixed for good: another namespace would give a review that
 * already ran a new id, and run it again.
 */
export const REVIEW_EXECUTION_NAMESPACE = '644bd4d3-c2b4-4d09-9719-db410555e7c9';
export const REJECTED_REVIEW_REQUEST_NAMESPACE = 'f934469b-7c74-492b-b346-1b3ab9a0de74';

/** A problem with a review request, naming its field. */
export interface ReviewProblem {
  readonly field: keyof ReviewRequested;
  readonly problem: string;
}

/** What a review request turns into: the command, and the execution it goes to. */
export interface ReviewExecution {
  readonly executionId: string;
  readonly command: Extract<ExecutionCommand, { type: 'RequestExecution' | 'RejectRequest' }>;
}

/** The fields copied into the tasks' input (and so stored and published): PostgreSQL text and jsonb cannot hold NUL. */
const STORED_TEXT = ['repositoryId', 'repositoryName', 'headCommit', 'requestedBy', 'customerId', 'title', 'url'] as const;

/** The execution of one review: the same repository, pull request and head commit always give the same id. */
export function reviewExecutionId(review: Pick<ReviewRequested, 'repositoryId' | 'pullRequestNumber' | 'headCommit'>): string {
  // A JSON array, not a separator: no repository id can make two different triples read the same.
  return uuidv5(JSON.stringify([review.repositoryId, review.pullRequestNumber, review.headCommit]), REVIEW_EXECUTION_NAMESPACE);
}

/** What every task of a review is given: the pull request. A title or url the request leaves out is left out. */
export function pullRequestInput(review: ReviewRequested): Readonly<Record<string, string>> {
  return {
    repository_id: review.repositoryId,
    repository_name: review.repositoryName,
    pull_request_number: String(review.pullRequestNumber),
    head_commit: review.headCommit,
    requested_by: review.requestedBy,
    ...(review.title ? { title: review.title } : {}),
    ...(review.url ? { url: review.url } : {}),
  };
}

/** What a review needs beyond what any execution request needs (the customer, a known workflow: validateExecutionRequest). */
export function reviewRequestProblems(review: ReviewRequested): ReviewProblem[] {
  const problems: ReviewProblem[] = [];
  if (!review.repositoryId.trim()) problems.push({ field: 'repositoryId', problem: 'must not be empty' });
  if (!(review.pullRequestNumber > 0)) problems.push({ field: 'pullRequestNumber', problem: `must be positive, got ${review.pullRequestNumber}` });
  if (!review.headCommit.trim()) problems.push({ field: 'headCommit', problem: 'must not be empty' });
  for (const field of STORED_TEXT) {
    if (review[field]?.includes('\u0000')) problems.push({ field, problem: 'must not contain NUL (U+0000)' });
  }
  return problems;
}

/**
 * A review request as the command that makes it an execution.
 *
 * - A request a review can be made of: kind `review`, the configured review workflow with the pull
 *   request added to every task's input, under the review's own id (`reviewExecutionId`). Asked
 *   again, it is a repeated request for the same execution, which changes nothing.
 * - Any other: its rejection with every reason, under an id of that request alone (from `eventId`),
 *   so that a rejected request never takes the id under which a corrected one will run.
 */
export function reviewExecution(review: ReviewRequested, context: { readonly eventId: string; readonly settings: ExecutionSettings; readonly now: number }): ReviewExecution {
  const { eventId, settings, now } = context;
  const input = pullRequestInput(review);
  const request: ExecutionRequested = {
    executionId: reviewExecutionId(review),
    customerId: review.customerId,
    kind: REVIEW_KIND,
    tasks: (settings.workflows[REVIEW_KIND] ?? []).map((task) => ({ ...task, input: { ...task.input, ...input } })),
    contractValue: null,
    deadlineAt: null,
    tier: null,
    requestedAt: review.requestedAt,
  };
  const reasons = [...reviewRequestProblems(review).map(({ field, problem }) => `${field} ${problem}`), ...validateExecutionRequest(request, settings)];
  if (reasons.length === 0) return { executionId: request.executionId, command: { type: 'RequestExecution', request, settings, now } };

  const executionId = uuidv5(eventId, REJECTED_REVIEW_REQUEST_NAMESPACE);
  const customerId = review.customerId?.trim() && !review.customerId.includes('\u0000') ? review.customerId : null;
  return { executionId, command: { type: 'RejectRequest', executionId, customerId, reasons, now } };
}
