import type { ReviewRequested, TaskDispatched, TaskSpec } from '@flotilla/contracts';
import { deciderSpec } from '@flotilla/domain';
import * as path from 'node:path';
import type { ExecutionEvent } from '../../execution/domain/execution';
import { executionDecider } from '../../execution/domain/execution.decider';
import type { ExecutionSettings } from '../../execution/domain/policies';
import { loadExecutionSettings } from '../../execution/infrastructure/execution-settings.loader';
import { REVIEW_EXECUTION_NAMESPACE, reviewExecution, reviewExecutionId } from './review-execution';

const T0 = 1_700_000_000_000;
/** The settings the orchestrator ships with: the review workflow as it runs. */
const shipped = loadExecutionSettings(path.resolve(__dirname, '../../../config/execution-settings.json'));
const task = (taskId: string, agentType: string, dependsOn: string[] = [], input: Record<string, string> = {}): TaskSpec => ({ taskId, agentType, dependsOn, input });
const withWorkflows = (workflows: ExecutionSettings['workflows']): ExecutionSettings => ({ ...shipped, workflows });

function review(overrides: Partial<ReviewRequested> = {}): ReviewRequested {
  return {
    repositoryId: 'R_kgDOLx9',
    repositoryName: 'acme/shop',
    pullRequestNumber: 42,
    headCommit: '3f2a9c1e0b7d4c5a8e6f1d2c3b4a5968778695a4',
    requestedBy: 'octocat',
    customerId: 'acme',
    title: 'Faster checkout',
    url: 'https://github.com/acme/shop/pull/42',
    source: 'github:72d3162e-cc78-11e3-81ab-4c9367dc0958',
    requestedAt: T0,
    ...overrides,
  };
}

const map = (r: ReviewRequested, { eventId = 'event-1', settings = shipped, now = T0 + 1 } = {}) => reviewExecution(r, { eventId, settings, now });
const spec = deciderSpec(executionDecider);

/** The request decided, admitted, and every task completed as it is dispatched: every event of the execution, in order. */
function runToCompletion(r: ReviewRequested, settings = shipped): ExecutionEvent[] {
  const { command } = map(r, { settings });
  let history = [...spec.given().when(command).events];
  let now = T0 + 10;
  history.push(...spec.given(...history).when({ type: 'AdmitExecution', effectivePriority: 0, probe: false, now }).events);
  for (let completed = 0; ; completed++) {
    const state = spec.given(...history).state;
    if (state.status !== 'Running') return history;
    const next = Object.entries(state.taskStates).find(([, s]) => s.status === 'Dispatched');
    if (!next || completed > 20) throw new Error(`stuck in ${JSON.stringify(state.taskStates)}`);
    history = [...history, ...spec.given(...history).when({ type: 'RecordTaskCompleted', taskId: next[0], attempt: 1, now: ++now }).events];
  }
}

const dispatches = (events: readonly ExecutionEvent[]) => events.filter((e) => e.type === 'flotilla.task.TaskDispatched').map((e) => e.data as TaskDispatched);

describe('review execution: its id is the review (repository, pull request, head commit)', () => {
  const base = reviewExecutionId(review());

  it('is a UUIDv5 under a namespace that never changes (another would run every review already run again)', () => {
    expect(base).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(REVIEW_EXECUTION_NAMESPACE).toBe('644bd4d3-c2b4-4d09-9719-db410555e7c9');
    // uuid5(namespace, '["R_kgDOLx9",42,"3f2a…"]'), as Python's uuid.uuid5 computes it too
    expect(base).toBe('13b55f4c-1738-5fb4-98c1-6d2c8d34250a');
  });

  it.each<[string, Partial<ReviewRequested>, { eventId?: string }]>([
    ['asked again by someone else', { requestedBy: 'hubot', requestedAt: T0 + 60_000 }, {}],
    ['with another title and url', { title: 'Faster checkout (v2)', url: null }, {}],
    ['from another source, as another event', { source: 'billing-bot' }, { eventId: 'event-2' }],
    ['for another customer', { customerId: 'globex' }, {}],
  ])('the same review %s has the same id', (_, overrides, context) => {
    expect(reviewExecutionId(review(overrides))).toBe(base);
    expect(map(review(overrides), context).executionId).toBe(base);
  });

  it.each<[string, Partial<ReviewRequested>]>([
    ['another repository', { repositoryId: 'R_kgDOLx8' }],
    ['another pull request', { pullRequestNumber: 43 }],
    ['another head commit', { headCommit: '9b1e6a2d4c7f8e0a1b3c5d7e9f0a2b4c6d8e0f1a' }],
    ['the same characters split otherwise between repository and commit', { repositoryId: 'R_kgDOLx9","3f2a', headCommit: '9c1e0b7d4c5a8e6f1d2c3b4a5968778695a4' }],
  ])('%s is another review, with another id', (_, overrides) => {
    expect(reviewExecutionId(review(overrides))).not.toBe(base);
    expect(map(review(overrides)).executionId).toBe(reviewExecutionId(review(overrides)));
  });
});

describe('review execution: a request of kind review running the configured review workflow', () => {
  const pullRequest = {
    repository_id: 'R_kgDOLx9',
    repository_name: 'acme/shop',
    pull_request_number: '42',
    head_commit: '3f2a9c1e0b7d4c5a8e6f1d2c3b4a5968778695a4',
    requested_by: 'octocat',
    title: 'Faster checkout',
    url: 'https://github.com/acme/shop/pull/42',
  };

  it('is accepted as kind review with the shipped workflow, for its customer, under the review id', () => {
    const { executionId, command } = map(review());
    const [accepted, queued] = spec.given().when(command).events;
    expect(accepted).toMatchObject({ type: 'flotilla.execution.ExecutionAccepted', data: { executionId, customerId: 'acme', kind: 'review', acceptedAt: T0 + 1 } });
    expect(queued.type).toBe('flotilla.execution.ExecutionQueued');
    if (accepted.type !== 'flotilla.execution.ExecutionAccepted') throw new Error(`accepted expected, got ${accepted.type}`);
    const { tasks } = accepted.data;
    expect(tasks.map(({ taskId, agentType, dependsOn }) => ({ taskId, agentType, dependsOn }))).toEqual(shipped.workflows.review.map(({ taskId, agentType, dependsOn }) => ({ taskId, agentType, dependsOn })));
    expect(command.type === 'RequestExecution' && command.request.requestedAt).toBe(T0);
  });

  it.each<[string, ExecutionSettings]>([
    ['the shipped workflow (analysis, then security scan and style check, then summary)', shipped],
    ['a workflow of one review task', withWorkflows({ review: [task('review', 'review')] })],
  ])('gives the pull request to every task it dispatches, through to completion: %s', (_, settings) => {
    const events = runToCompletion(review(), settings);
    expect(events.at(-1)?.type).toBe('flotilla.execution.ExecutionCompleted');
    const dispatched = dispatches(events);
    expect(dispatched.map((d) => d.taskId).sort()).toEqual(settings.workflows.review.map((t) => t.taskId).sort());
    for (const d of dispatched) expect(d.input).toEqual(pullRequest);
  });

  it('keeps what the workflow gives a task, the pull request winning a clash', () => {
    const settings = withWorkflows({ review: [task('review', 'review', [], { model: 'large', head_commit: 'configured' })] });
    const [d] = dispatches(runToCompletion(review(), settings));
    expect(d.input).toEqual({ ...pullRequest, model: 'large' });
  });

  it.each<[string, Partial<ReviewRequested>, Record<string, string>]>([
    ['no title', { title: null }, { title: '' }],
    ['no url', { url: null }, { url: '' }],
    ['an empty title and url', { title: '', url: '' }, { title: '', url: '' }],
  ])('leaves out what the request leaves out: %s', (_, overrides, absent) => {
    const [d] = dispatches(runToCompletion(review(overrides)));
    for (const key of Object.keys(absent)) expect(d.input).not.toHaveProperty(key);
    expect(d.input).toMatchObject({ repository_id: 'R_kgDOLx9', pull_request_number: '42' });
  });
});

describe('review execution: asked twice, it runs once', () => {
  const first = map(review(), { eventId: 'event-1' });
  const again = map(review({ requestedBy: 'hubot', requestedAt: T0 + 5_000 }), { eventId: 'event-2', now: T0 + 5_000 });
  const accepted = spec.given().when(first.command).events;
  const admitted = [...accepted, ...spec.given(...accepted).when({ type: 'AdmitExecution', effectivePriority: 0, probe: false, now: T0 + 2 }).events];

  it.each<[string, readonly ExecutionEvent[]]>([
    ['while it waits to be admitted', accepted],
    ['while it runs', admitted],
    ['once it completed', runToCompletion(review())],
  ])('the second request changes nothing %s', (_, history) => {
    expect(again.executionId).toBe(first.executionId);
    spec.given(...history).when(again.command).thenNothing();
  });
});

describe('review execution: a request a review cannot be made of is a rejected execution, with the reasons', () => {
  it.each<[string, Partial<ReviewRequested>, ExecutionSettings, string[], string | null]>([
    ['no customer', { customerId: null }, shipped, ['customerId is required'], null],
    ['a blank customer', { customerId: '  ' }, shipped, ['customerId is required'], null],
    ['an empty repository id', { repositoryId: '' }, shipped, ['repositoryId must not be empty'], 'acme'],
    ['a blank head commit', { headCommit: ' ' }, shipped, ['headCommit must not be empty'], 'acme'],
    ['pull request 0', { pullRequestNumber: 0 }, shipped, ['pullRequestNumber must be positive, got 0'], 'acme'],
    ['a negative pull request', { pullRequestNumber: -7 }, shipped, ['pullRequestNumber must be positive, got -7'], 'acme'],
    ['a NUL in the title (PostgreSQL cannot store it)', { title: 'a\u0000b' }, shipped, ['title must not contain NUL (U+0000)'], 'acme'],
    ['a NUL in the customer', { customerId: 'ac\u0000me' }, shipped, ['customerId must not contain NUL (U+0000)'], null],
    ['everything wrong at once', { repositoryId: ' ', headCommit: '', pullRequestNumber: 0, customerId: null }, shipped, ['repositoryId must not be empty', 'pullRequestNumber must be positive, got 0', 'headCommit must not be empty', 'customerId is required'], null],
    ['no review workflow configured', {}, withWorkflows({ app_generation: shipped.workflows.app_generation }), ['kind "review" is not a known workflow (app_generation) and the request carries no tasks'], 'acme'],
    ['a review workflow naming an unknown agent type', {}, withWorkflows({ review: [task('read', 'mind_reading')] }), ['tasks[0].agentType "mind_reading" is not a known agent type'], 'acme'],
  ])('%s', (_, overrides, settings, reasons, customerId) => {
    const { executionId, command } = map(review(overrides), { eventId: 'event-9', settings, now: T0 + 3 });
    spec.given().when(command).then([{ type: 'flotilla.execution.ExecutionRejected', data: { executionId, customerId, reasons, rejectedAt: T0 + 3 } }]);
  });

  it('is rejected under an id of that request alone: the same event, the same id; a corrected request for the same pull request still runs', () => {
    const rejected = map(review({ customerId: null }), { eventId: 'event-9' });
    expect(map(review({ customerId: null }), { eventId: 'event-9' }).executionId).toBe(rejected.executionId);
    expect(map(review({ customerId: null }), { eventId: 'event-10' }).executionId).not.toBe(rejected.executionId);
    expect(rejected.executionId).not.toBe(reviewExecutionId(review()));

    const corrected = map(review(), { eventId: 'event-11' });
    const history = spec.given().when(rejected.command).events;
    expect(spec.given(...history).state.status).toBe('Rejected');
    expect(spec.given().when(corrected.command).events.map((e) => e.type)).toEqual(['flotilla.execution.ExecutionAccepted', 'flotilla.execution.ExecutionQueued']);
  });
});
