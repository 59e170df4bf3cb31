import { createHmac } from 'node:crypto';
import { decideGitHubWebhook, githubSignatureValid, type GitHubDelivery } from './github-pull-request';

// GitHub's own test values ("Validating webhook deliveries", docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries,
// section "Testing the webhook payload validation"); the signature was checked against node:crypto when this spec was written.
const github = {
  secret: "It's a Secret to Everybody",
  body: 'Hello, World!',
  signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};

const secret = 'whk-7f3a9c2e';
const body = Buffer.from('{"action":"opened","number":42,"repository":{"id":123456789,"full_name":"acme/widgets"}}');
const signed = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const sha = 'ABCDEF0123456789abcdef0123456789ABCDEF01';
const pullRequest = (overrides: Record<string, unknown> = {}) => ({
  action: 'opened',
  number: 42,
  repository: { id: 123456789, full_name: 'acme/widgets' },
  pull_request: { number: 42, title: 'Add a widget', html_url: 'https://github.com/acme/widgets/pull/42', head: { sha } },
  sender: { login: 'octocat' },
  ...overrides,
});
const delivery = (payload: unknown): GitHubDelivery => ({ event: 'pull_request', deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', payload, now: 5_000 });
const repositories = { '123456789': 'acme', 'globex/gadgets': 'globex' };

describe('GitHub pull requests', () => {
  describe('signature', () => {
    it("reproduces GitHub's documented example", () => {
      expect(`sha256=${createHmac('sha256', github.secret).update(github.body).digest('hex')}`).toBe(github.signature);
      expect(githubSignatureValid(github.secret, Buffer.from(github.body), github.signature)).toBe(true);
    });

    it('accepts the HMAC-SHA256 of the exact body with the secret', () => {
      expect(githubSignatureValid(secret, body, signed)).toBe(true);
    });

    it.each<[string, string, Buffer, string | undefined]>([
      ['another secret', 'whk-other', body, signed],
      ['a tampered body', secret, Buffer.from(body.toString().replace('42', '43')), signed],
      ['a body with a newline added', secret, Buffer.concat([body, Buffer.from('\n')]), signed],
      ['a re-serialized body', secret, Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1)), signed],
      ['no header', secret, body, undefined],
      ['an empty header', secret, body, ''],
      ['the bare hex without sha256=', secret, body, signed.slice('sha256='.length)],
      ['another scheme (the legacy sha1 header)', secret, body, `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`],
      ['a truncated signature', secret, body, signed.slice(0, -2)],
      ['a signature with something appended', secret, body, `${signed}00`],
      ['an empty signature', secret, body, 'sha256='],
      ['a header with leading space', secret, body, ` ${signed}`],
      ['the signature of another body', secret, body, `sha256=${createHmac('sha256', secret).update('{}').digest('hex')}`],
    ])('refuses %s', (_case, key, received, header) => {
      expect(githubSignatureValid(key, received, header)).toBe(false);
    });
  });

  describe('decision', () => {
    it.each(['opened', 'reopened', 'synchronize'])('asks for a review of a pull request %s, with every field', (action) => {
      expect(decideGitHubWebhook(delivery(pullRequest({ action })), repositories)).toEqual({
        kind: 'review',
        request: {
          repositoryId: '123456789',
          repositoryName: 'acme/widgets',
          pullRequestNumber: 42,
          headCommit: 'abcdef0123456789abcdef0123456789abcdef01',
          requestedBy: 'octocat',
          customerId: 'acme',
          title: 'Add a widget',
          url: 'https://github.com/acme/widgets/pull/42',
          source: 'github:72d3162e-cc78-11e3-81ab-4c9367dc0958',
          requestedAt: 5_000,
        },
      });
    });

    it('decides the same for the same delivery', () => {
      expect(decideGitHubWebhook(delivery(pullRequest()), repositories)).toEqual(decideGitHubWebhook(delivery(pullRequest()), repositories));
    });

    it('fills what GitHub left out: the number from the pull request, nobody as github, no title or page', () => {
      const payload = pullRequest({ number: undefined, sender: undefined, pull_request: { number: 7, title: '', head: { sha: 'abcdef0' } } });
      expect(decideGitHubWebhook(delivery(payload), repositories)).toMatchObject({
        kind: 'review',
        request: { pullRequestNumber: 7, headCommit: 'abcdef0', requestedBy: 'github', title: null, url: null },
      });
    });

    it.each([
      ['closed', 'pull_request closed asks for no review'],
      ['edited', 'pull_request edited asks for no review'],
      ['labeled', 'pull_request labeled asks for no review'],
      [undefined, 'pull_request (no action) asks for no review'],
    ])('ignores a pull request %s', (action, reason) => {
      expect(decideGitHubWebhook(delivery(pullRequest({ action })), repositories)).toEqual({ kind: 'ignored', reason });
    });

    it.each([
      ['ping', { zen: 'Keep it logically awesome.', hook_id: 1 }, 'ping event asks for no review'],
      ['push', pullRequest(), 'push event asks for no review'],
      [undefined, pullRequest(), 'an unnamed event asks for no review'],
    ])('ignores a %s event (X-GitHub-Event)', (event, payload, reason) => {
      expect(decideGitHubWebhook({ ...delivery(payload), event }, repositories)).toEqual({ kind: 'ignored', reason });
    });

    it('names a repository no customer is configured for', () => {
      const payload = pullRequest({ repository: { id: 555, full_name: 'initech/tps' } });
      expect(decideGitHubWebhook(delivery(payload), repositories)).toEqual({ kind: 'unmapped', repository: 'initech/tps (555)' });
    });

    it('maps a repository by its name, and by its id first (a renamed repository keeps its id)', () => {
      const byName = pullRequest({ repository: { id: 987, full_name: 'globex/gadgets' } });
      expect(decideGitHubWebhook(delivery(byName), repositories)).toMatchObject({ kind: 'review', request: { customerId: 'globex', repositoryId: '987' } });
      const both = { '123456789': 'acme', 'acme/widgets': 'globex' };
      expect(decideGitHubWebhook(delivery(pullRequest()), both)).toMatchObject({ kind: 'review', request: { customerId: 'acme' } });
      const renamed = pullRequest({ repository: { id: 123456789, full_name: 'acme/widgets-renamed' } });
      expect(decideGitHubWebhook(delivery(renamed), repositories)).toMatchObject({ kind: 'review', request: { customerId: 'acme', repositoryName: 'acme/widgets-renamed' } });
    });

    it.each<[string, unknown, string]>([
      ['no body', null, 'the body is not a JSON object'],
      ['a body that is text', 'opened', 'the body is not a JSON object'],
      ['no repository', pullRequest({ repository: undefined }), 'repository.id and repository.full_name are required'],
      ['no repository id', pullRequest({ repository: { full_name: 'acme/widgets' } }), 'repository.id and repository.full_name are required'],
      ['no repository name', pullRequest({ repository: { id: 123456789 } }), 'repository.id and repository.full_name are required'],
      ['a repository id that is an object', pullRequest({ repository: { id: { n: 1 }, full_name: 'acme/widgets' } }), 'repository.id and repository.full_name are required'],
      ['pull request number 0', pullRequest({ number: 0 }), 'the pull request number must be a positive whole number'],
      ['a negative number', pullRequest({ number: -3 }), 'the pull request number must be a positive whole number'],
      ['a fractional number', pullRequest({ number: 4.5 }), 'the pull request number must be a positive whole number'],
      ['no number anywhere', pullRequest({ number: undefined, pull_request: { head: { sha } } }), 'the pull request number must be a positive whole number'],
      ['a head sha that is not hex', pullRequest({ pull_request: { number: 42, head: { sha: 'not-a-commit-sha' } } }), 'pull_request.head.sha must be a commit SHA'],
      ['a head sha too short', pullRequest({ pull_request: { number: 42, head: { sha: 'abc12' } } }), 'pull_request.head.sha must be a commit SHA'],
      ['no head sha', pullRequest({ pull_request: { number: 42 } }), 'pull_request.head.sha must be a commit SHA'],
    ])('finds %s invalid', (_case, payload, problem) => {
      expect(decideGitHubWebhook(delivery(payload), repositories)).toEqual({ kind: 'invalid', problem });
    });
  });
});
