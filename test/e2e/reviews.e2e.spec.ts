import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TOPICS, type ExecutionAccepted, type ExecutionRejected, type ReviewRequested, type TaskDispatched } from '@flotilla/contracts';
import { stack, startFlotilla, testKafka, waitFor, type Flotilla } from '@flotilla/testing';
import type { IHeaders, Producer } from 'kafkajs';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';

/**
 * Review requests from a producer outside Flotilla: a plain kafkajs producer with the registry's own
 * client, which knows nothing of our envelope. The orchestrator turns each into a review execution
 * (the shipped review workflow, run by the agent pool's synthetic executor), once per repository,
 * pull request and head commit. Seen from outside: the executions topic and the dispatch topics.
 */
describe('reviews: ReviewRequested on flotilla.review-requests runs a review execution, once per head commit', () => {
  const kafka = testKafka('reviews-e2e');
  const registry = new SchemaRegistry({ host: stack.registryUrl });
  let flotilla: Flotilla<'orchestrator' | 'agent-pool'>;
  let driver: EventDriver;
  let producer: Producer;
  let executions: TopicTail<Record<string, unknown>>;
  const dispatchTails = new Map<string, TopicTail<TaskDispatched>>();

  const repositoryId = `R_${randomBytes(6).toString('hex')}`;
  const firstCommit = randomBytes(20).toString('hex');
  const secondCommit = randomBytes(20).toString('hex');

  beforeAll(async () => {
    flotilla = await startFlotilla({
      namespacePrefix: 'rev',
      services: ['orchestrator', 'agent-pool'],
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '5', SYNTHETIC_MAX_DURATION_MS: '20' } },
    });
    producer = kafka.producer();
    await producer.connect();
    driver = new EventDriver(flotilla.namespace);
    executions = await driver.tail('flotilla.executions');
  });

  afterAll(async () => {
    await Promise.all([...dispatchTails.values()].map((tail) => tail.stop()));
    await executions?.stop();
    await producer?.disconnect();
    await flotilla?.stop();
  });

  /** Publishes as any producer would: the latest schema of the record's subject (record-name strategy), the registry's wire format, keyed by repository id. */
  async function requestReview(overrides: Partial<ReviewRequested> = {}, headers?: IHeaders): Promise<ReviewRequested> {
    const review: ReviewRequested = {
      repositoryId,
      repositoryName: 'acme/shop',
      pullRequestNumber: 42,
      headCommit: firstCommit,
      requestedBy: 'octocat',
      customerId: 'acme',
      title: 'Faster checkout',
      url: 'https://github.com/acme/shop/pull/42',
      source: 'reviews-e2e',
      requestedAt: Date.now(),
      ...overrides,
    };
    const schemaId = await registry.getLatestSchemaId('flotilla.review.ReviewRequested');
    await producer.send({ topic: flotilla.topic(TOPICS.reviewRequests.name), acks: -1, messages: [{ key: review.repositoryId, value: await registry.encode(schemaId, review), headers }] });
    return review;
  }

  const accepted = () => executions.of<ExecutionAccepted>('flotilla.execution.ExecutionAccepted').filter((a) => a.tasks.some((t) => t.input.repository_id === repositoryId));
  const ofExecution = (type: string, executionId: string) => executions.of<{ executionId: string }>(type).filter((e) => e.executionId === executionId);

  /** The review execution of a head commit, once accepted. */
  const reviewOf = (headCommit: string) =>
    waitFor(`the review of ${headCommit.slice(0, 7)} to be accepted`, () => accepted().find((a) => a.tasks.every((t) => t.input.head_commit === headCommit)), { timeoutMs: 60_000 });

  const completed = (executionId: string) =>
    waitFor(`execution ${executionId} to complete`, () => ofExecution('flotilla.execution.ExecutionCompleted', executionId).length > 0 || undefined, { timeoutMs: 60_000 });

  /** Every dispatch of the execution so far, from the topics of its tasks' agent types (followed from their beginning). */
  async function dispatchesOf(execution: ExecutionAccepted): Promise<TaskDispatched[]> {
    const agentTypes = [...new Set(execution.tasks.map((t) => t.agentType))];
    for (const agentType of agentTypes) {
      if (!dispatchTails.has(agentType)) dispatchTails.set(agentType, await driver.tail<TaskDispatched>(`flotilla.tasks.${agentType}`));
    }
    await Promise.all(agentTypes.map((agentType) => dispatchTails.get(agentType)!.caughtUp()));
    return agentTypes.flatMap((agentType) => dispatchTails.get(agentType)!.of<TaskDispatched>('flotilla.task.TaskDispatched').filter((d) => d.executionId === execution.executionId));
  }

  /** Nothing of theirs on its way: the orchestrator's groups (the review requests' among them) have committed every message, its outbox is empty, and the tail has read the executions topic to its end. */
  async function settled(): Promise<void> {
    await flotilla.settled({ services: ['orchestrator'] });
    await executions.caughtUp();
  }

  it('runs a review execution of the shipped workflow, every task given the pull request, from a message with no headers at all', async () => {
    await requestReview();
    const review = await reviewOf(firstCommit);
    expect(review).toMatchObject({ customerId: 'acme', kind: 'review' });
    expect(review.tasks.length).toBeGreaterThan(1);
    await completed(review.executionId);

    const dispatched = await dispatchesOf(review);
    expect(dispatched.map((d) => d.taskId).sort()).toEqual(review.tasks.map((t) => t.taskId).sort());
    for (const d of dispatched) {
      expect(d.input).toEqual({
        repository_id: repositoryId,
        repository_name: 'acme/shop',
        pull_request_number: '42',
        head_commit: firstCommit,
        requested_by: 'octocat',
        title: 'Faster checkout',
        url: 'https://github.com/acme/shop/pull/42',
      });
    }
  });

  it('runs nothing new when the same head commit is asked again, as another event (its own flotilla-event-id)', async () => {
    const review = await reviewOf(firstCommit);
    const before = await dispatchesOf(review);
    await requestReview({ requestedBy: 'hubot', requestedAt: Date.now() }, { 'flotilla-event-id': randomUUID() });
    await settled();

    // One execution of this head commit in all, not merely one under the same id.
    expect(accepted().filter((a) => a.tasks.some((t) => t.input.head_commit === firstCommit))).toEqual([review]);
    expect(ofExecution('flotilla.execution.ExecutionQueued', review.executionId)).toHaveLength(1);
    expect(ofExecution('flotilla.execution.ExecutionAdmitted', review.executionId)).toHaveLength(1);
    expect(ofExecution('flotilla.execution.ExecutionCompleted', review.executionId)).toHaveLength(1);
    const after = await dispatchesOf(review);
    expect(after).toHaveLength(before.length);
    expect(after).toHaveLength(review.tasks.length);
  });

  it('rejects a request without a customer with the reason, and the repository\'s partition goes on', async () => {
    const rejectionsBefore = executions.of<ExecutionRejected>('flotilla.execution.ExecutionRejected').length;
    await requestReview({ customerId: null, headCommit: secondCommit });
    const rejected = await waitFor('the review request without a customer to be rejected', () => executions.of<ExecutionRejected>('flotilla.execution.ExecutionRejected').slice(rejectionsBefore)[0], { timeoutMs: 60_000 });
    expect(rejected).toMatchObject({ customerId: null, reasons: ['customerId is required'] });

    await settled();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const deadLetters = await admin.fetchTopicOffsets(flotilla.topic('flotilla.orchestrator.review-requests.dlq'));
      expect(deadLetters.map((p) => Number(p.high))).toEqual([0]); // rejected, not dead-lettered
    } finally {
      await admin.disconnect();
    }
  });

  it('runs a second review for another head commit of the same pull request', async () => {
    // The same head commit the rejected request named: a rejection does not take the id its review runs under.
    await requestReview({ headCommit: secondCommit });
    const second = await reviewOf(secondCommit);
    const first = await reviewOf(firstCommit);
    expect(second.executionId).not.toBe(first.executionId);
    await completed(second.executionId);
    const dispatched = await dispatchesOf(second);
    expect(dispatched).toHaveLength(second.tasks.length);
    for (const d of dispatched) expect(d.input).toMatchObject({ repository_id: repositoryId, pull_request_number: '42', head_commit: secondCommit });

    await settled();
    expect(accepted().map((a) => a.executionId).sort()).toEqual([first.executionId, second.executionId].sort());
  });
});
