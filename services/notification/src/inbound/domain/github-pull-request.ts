import type { ReviewRequested } from '@flotilla/contracts';
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * GitHub's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the exact body with the
 * webhook's secret. Compared in constant time, so that a forger learns nothing from how long a wrong
 * guess took to refuse.
 */
export function githubSignatureValid(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const offered = Buffer.from(header.slice('sha256='.length), 'utf8');
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'), 'utf8');
  return offered.length === expected.length && timingSafeEqual(offered, expected);
}

/** The pull-request actions that ask for a review: a new pull request, one reopened, new commits pushed. */
export const REVIEWED_ACTIONS = ['opened', 'reopened', 'synchronize'] as const;

export type GitHubWebhookDecision =
  | { readonly kind: 'review'; readonly request: ReviewRequested }
  /** Acknowledged and ignored: another event (ping, push), or an action that asks for no review. */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** A repository no customer is configured for: acknowledged, ignored, logged. */
  | { readonly kind: 'unmapped'; readonly repository: string }
  | { readonly kind: 'invalid'; readonly problem: string };

export interface GitHubDelivery {
  /** X-GitHub-Event */
  readonly event: string | undefined;
  /** X-GitHub-Delivery */
  readonly deliveryId: string;
  readonly payload: unknown;
  readonly now: number;
}

/**
 * What a verified GitHub webhook asks of us. `repositories` maps a repository, by `owner/name` or by
 * its numeric id, to the customer whose review it is; the id wins (a renamed repository keeps it).
 */
export function decideGitHubWebhook(delivery: GitHubDelivery, repositories: Readonly<Record<string, string>>): GitHubWebhookDecision {
  if (delivery.event !== 'pull_request') return { kind: 'ignored', reason: `${delivery.event ?? 'an unnamed'} event asks for no review` };
  const payload = delivery.payload as {
    action?: unknown;
    number?: unknown;
    repository?: { id?: unknown; full_name?: unknown };
    pull_request?: { number?: unknown; title?: unknown; html_url?: unknown; head?: { sha?: unknown } };
    sender?: { login?: unknown };
  } | null;
  if (!payload || typeof payload !== 'object') return { kind: 'invalid', problem: 'the body is not a JSON object' };
  const action = typeof payload.action === 'string' ? payload.action : null;
  if (!action || !(REVIEWED_ACTIONS as readonly string[]).includes(action)) return { kind: 'ignored', reason: `pull_request ${action ?? '(no action)'} asks for no review` };
  const repositoryId = typeof payload.repository?.id === 'number' || typeof payload.repository?.id === 'string' ? String(payload.repository.id) : null;
  const repositoryName = typeof payload.repository?.full_name === 'string' ? payload.repository.full_name : null;
  const number = typeof payload.number === 'number' ? payload.number : payload.pull_request?.number;
  const headCommit = payload.pull_request?.head?.sha;
  if (!repositoryId || !repositoryName) return { kind: 'invalid', problem: 'repository.id and repository.full_name are required' };
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) return { kind: 'invalid', problem: 'the pull request number must be a positive whole number' };
  if (typeof headCommit !== 'string' || !/^[0-9a-f]{7,64}$/i.test(headCommit)) return { kind: 'invalid', problem: 'pull_request.head.sha must be a commit SHA' };
  const customerId = repositories[repositoryId] ?? repositories[repositoryName];
  if (!customerId) return { kind: 'unmapped', repository: `${repositoryName} (${repositoryId})` };
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  return {
    kind: 'review',
    request: {
      repositoryId,
      repositoryName,
      pullRequestNumber: number,
      headCommit: headCommit.toLowerCase(),
      requestedBy: text(payload.sender?.login) ?? 'github',
      customerId,
      title: text(payload.pull_request?.title),
      url: text(payload.pull_request?.html_url),
      source: `github:${delivery.deliveryId}`,
      requestedAt: delivery.now,
    },
  };
}
