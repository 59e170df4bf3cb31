import { decideSignedRequest, type InboundSender } from './signed-request';

const billing: InboundSender = { id: 'billing', customerId: 'acme', secrets: ['whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE='] };
const crm: InboundSender = { id: 'crm', customerId: 'globex', secrets: ['whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI='] };
const now = 1_700_000_000_000;

const message = (type: string, data: unknown) => ({ type, timestamp: '2023-11-14T22:13:20Z', data });
const execution = (data: Record<string, unknown>) => message('execution.requested', data);
const review = (data: Record<string, unknown>) => message('review.requested', data);

const workflow = {
  kind: 'code_change',
  tier: 'premium',
  contractValue: 1_200,
  deadlineAt: 1_700_000_600_000,
  tasks: [
    { taskId: 'gen', agentType: 'code_gen', input: { repo: 'acme/widgets', branch: 'main' } },
    { taskId: 'test', agentType: 'testing', dependsOn: ['gen'] },
  ],
};

const pullRequest = {
  repositoryId: '123456789',
  repositoryName: 'acme/widgets',
  pullRequestNumber: 42,
  headCommit: 'abcdef0123456789abcdef0123456789abcdef01',
  title: 'Add a widget',
  url: 'https://github.com/acme/widgets/pull/42',
  requestedBy: 'ci-bot',
};

function executionIdOf(sender: InboundSender, messageId: string, data: Record<string, unknown> = workflow): string {
  const decision = decideSignedRequest(sender, messageId, execution(data), now);
  if (decision.kind !== 'execution') throw new Error(`expected an execution, got ${JSON.stringify(decision)}`);
  return decision.request.executionId;
}

describe('signed requests', () => {
  describe('execution.requested', () => {
    it('requests the execution for the sender\'s customer, whatever customer the body names', () => {
      expect(decideSignedRequest(billing, 'msg_1', execution({ ...workflow, customerId: 'globex' }), now)).toEqual({
        kind: 'execution',
        request: {
          // UUID v5 of "billing/msg_1" in the execution namespace, computed outside the service with node:crypto.
          executionId: 'cc032418-2e65-519f-b2c4-43c454ed9126',
          customerId: 'acme',
          kind: 'code_change',
          tier: 'premium',
          contractValue: 1_200,
          deadlineAt: 1_700_000_600_000,
          tasks: [
            { taskId: 'gen', agentType: 'code_gen', dependsOn: [], input: { repo: 'acme/widgets', branch: 'main' } },
            { taskId: 'test', agentType: 'testing', dependsOn: ['gen'], input: {} },
          ],
          requestedAt: now,
        },
      });
    });

    it('derives the same execution id from the same message, so a message sent again requests nothing twice', () => {
      expect(executionIdOf(billing, 'msg_1')).toBe(executionIdOf(billing, 'msg_1'));
      expect(executionIdOf(billing, 'msg_1', { kind: 'other' })).toBe(executionIdOf(billing, 'msg_1'));
    });

    it('derives another execution id for another message, and for another sender with the same message id', () => {
      const ids = [executionIdOf(billing, 'msg_1'), executionIdOf(billing, 'msg_2'), executionIdOf(crm, 'msg_1')];
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('keeps an execution id the sender chose', () => {
      expect(executionIdOf(billing, 'msg_1', { ...workflow, executionId: 'billing-run-7' })).toBe('billing-run-7');
    });

    it('leaves what the body does not say to the orchestrator', () => {
      expect(decideSignedRequest(billing, 'msg_1', execution({}), now)).toEqual({
        kind: 'execution',
        request: { executionId: executionIdOf(billing, 'msg_1'), customerId: 'acme', kind: null, tier: null, contractValue: null, deadlineAt: null, tasks: [], requestedAt: now },
      });
    });

    const withInput = (input: unknown) => ({ tasks: [{ taskId: 'gen', agentType: 'code_gen', input }] });
    const badInput = [{ field: 'data.tasks[0].input', problem: 'must be an object of strings' }];
    const noIdNorType = [{ field: 'data.tasks[0].taskId', problem: 'is required' }, { field: 'data.tasks[0].agentType', problem: 'is required' }];

    it.each<[string, Record<string, unknown>, readonly { field: string; problem: string }[]]>([
      ['an input of numbers', withInput({ attempts: 3 }), badInput],
      ['an input that is a list', withInput(['a']), badInput],
      ['an input that is null', withInput(null), badInput],
      ['an input that is text', withInput('repo=acme'), badInput],
      [
        'dependencies that are not a list of ids',
        { tasks: [{ taskId: 'a', agentType: 'x' }, { taskId: 'b', agentType: 'y', dependsOn: 'a' }] },
        [{ field: 'data.tasks[1].dependsOn', problem: 'must be an array of task ids' }],
      ],
      ['a task without id or agent type', { tasks: [{}] }, noIdNorType],
      ['a task that is null', { tasks: [null] }, noIdNorType],
      ['tasks that are not a list', { tasks: { gen: 'code_gen' } }, [{ field: 'data.tasks', problem: 'must be an array of {taskId, agentType, dependsOn?, input?}' }]],
      ['an empty execution id', { executionId: '' }, [{ field: 'data.executionId', problem: 'must be a non-empty string of at most 500 characters' }]],
      ['an execution id that is a number', { executionId: 7 }, [{ field: 'data.executionId', problem: 'must be a non-empty string of at most 500 characters' }]],
      ['a kind too long', { kind: 'k'.repeat(501) }, [{ field: 'data.kind', problem: 'must be a non-empty string of at most 500 characters' }]],
      ['a contract value that is text', { contractValue: '1200' }, [{ field: 'data.contractValue', problem: 'must be a number' }]],
      ['a deadline that is text', { deadlineAt: '2023-11-14T22:23:20Z' }, [{ field: 'data.deadlineAt', problem: 'must be a number' }]],
    ])('refuses %s, naming the field', (_case, data, problems) => {
      expect(decideSignedRequest(billing, 'msg_1', execution(data), now)).toEqual({ kind: 'invalid', problems });
    });

    it('names every problem of a request at once', () => {
      const data = { tier: 3, contractValue: 'much', tasks: [{ taskId: 'gen', input: { n: 1 } }, { agentType: 'testing', dependsOn: [1] }] };
      expect(decideSignedRequest(billing, 'msg_1', execution(data), now)).toEqual({
        kind: 'invalid',
        problems: [
          { field: 'data.tasks[0].input', problem: 'must be an object of strings' },
          { field: 'data.tasks[0].agentType', problem: 'is required' },
          { field: 'data.tasks[1].dependsOn', problem: 'must be an array of task ids' },
          { field: 'data.tasks[1].taskId', problem: 'is required' },
          { field: 'data.tier', problem: 'must be a non-empty string of at most 500 characters' },
          { field: 'data.contractValue', problem: 'must be a number' },
        ],
      });
    });
  });

  describe('review.requested', () => {
    it('requests the review for the sender\'s customer, with every field, from this sender and message', () => {
      expect(decideSignedRequest(billing, 'msg_9', review({ ...pullRequest, customerId: 'globex' }), now)).toEqual({
        kind: 'review',
        request: {
          repositoryId: '123456789',
          repositoryName: 'acme/widgets',
          pullRequestNumber: 42,
          headCommit: 'abcdef0123456789abcdef0123456789abcdef01',
          requestedBy: 'ci-bot',
          customerId: 'acme',
          title: 'Add a widget',
          url: 'https://github.com/acme/widgets/pull/42',
          source: 'webhook:billing:msg_9',
          requestedAt: now,
        },
      });
    });

    it('names the sender as who asked, and no title or page, when the body leaves them out', () => {
      const { title: _title, url: _url, requestedBy: _by, ...required } = pullRequest;
      expect(decideSignedRequest(crm, 'msg_9', review(required), now)).toMatchObject({
        kind: 'review',
        request: { requestedBy: 'webhook:crm', customerId: 'globex', title: null, url: null, source: 'webhook:crm:msg_9' },
      });
    });

    it('names each missing field', () => {
      expect(decideSignedRequest(billing, 'msg_9', review({}), now)).toEqual({
        kind: 'invalid',
        problems: [
          { field: 'data.pullRequestNumber', problem: 'must be a positive whole number' },
          { field: 'data.repositoryId', problem: 'is required' },
          { field: 'data.repositoryName', problem: 'is required' },
          { field: 'data.headCommit', problem: 'is required' },
        ],
      });
    });

    it.each<[string, Record<string, unknown>, string, string]>([
      ['pull request number 0', { pullRequestNumber: 0 }, 'data.pullRequestNumber', 'must be a positive whole number'],
      ['a pull request number that is text', { pullRequestNumber: '42' }, 'data.pullRequestNumber', 'must be a positive whole number'],
      ['a fractional pull request number', { pullRequestNumber: 4.2 }, 'data.pullRequestNumber', 'must be a positive whole number'],
      ['an empty head commit', { headCommit: '' }, 'data.headCommit', 'must be a non-empty string of at most 500 characters'],
      ['a head commit that is a branch name', { headCommit: 'HEAD' }, 'data.headCommit', 'must be a commit SHA (7 to 64 hexadecimal digits)'],
      ['a repository id that is a number', { repositoryId: 123456789 }, 'data.repositoryId', 'must be a non-empty string of at most 500 characters'],
      ['a title that is not text', { title: 5 }, 'data.title', 'must be a non-empty string of at most 500 characters'],
    ])('refuses %s', (_case, change, field, problem) => {
      expect(decideSignedRequest(billing, 'msg_9', review({ ...pullRequest, ...change }), now)).toEqual({ kind: 'invalid', problems: [{ field, problem }] });
    });

    it('lower-cases the head commit, as the GitHub route does, so the same commit is one review whichever route asks', () => {
      const decided = decideSignedRequest(billing, 'msg_10', review({ ...pullRequest, headCommit: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' }), now);
      expect(decided).toMatchObject({ kind: 'review', request: { headCommit: 'abcdef0123456789abcdef0123456789abcdef01' } });
    });
  });

  it.each<[string, unknown, readonly { field: string; problem: string }[]]>([
    ['an unknown type', message('execution.cancelled', {}), [{ field: 'type', problem: 'must be execution.requested or review.requested' }]],
    ['no type', { data: {} }, [{ field: 'type', problem: 'must be execution.requested or review.requested' }]],
    ['no data', { type: 'execution.requested' }, [{ field: 'data', problem: 'must be an object' }]],
    ['data that is a list', message('review.requested', [pullRequest]), [{ field: 'data', problem: 'must be an object' }]],
    ['neither type nor data', {}, [{ field: 'data', problem: 'must be an object' }, { field: 'type', problem: 'must be execution.requested or review.requested' }]],
    ['a body that is null', null, [{ field: '(body)', problem: 'must be a JSON object {type, timestamp, data}' }]],
    ['a body that is text', 'execution.requested', [{ field: '(body)', problem: 'must be a JSON object {type, timestamp, data}' }]],
    ['a body that is a list', [execution(workflow)], [{ field: '(body)', problem: 'must be a JSON object {type, timestamp, data}' }]],
    ['a body that is a number', 42, [{ field: '(body)', problem: 'must be a JSON object {type, timestamp, data}' }]],
  ])('refuses %s', (_case, body, problems) => {
    expect(decideSignedRequest(billing, 'msg_1', body, now)).toEqual({ kind: 'invalid', problems });
  });
});
