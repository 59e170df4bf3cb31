import { IllegalStateError } from '@flotilla/domain';
import { abandon, classify, recordAttempt, replay, type AttemptResult, type Delivery, type DeliveryEvent } from './delivery';

// A compressed schedule: attempt 1 when scheduled, attempt 2 a second after it, attempt 3 two seconds after that, then none.
const schedule = [0, 1_000, 2_000];
const jitterRatio = 0.2;

const scheduled: Delivery = {
  deliveryId: 'msg_0123456789abcdef0123456789abcdef',
  subscriptionId: 'sub-1',
  customerId: 'acme',
  eventId: 'ev-1',
  eventType: 'flotilla.execution.ExecutionCompleted',
  status: 'pending',
  attempts: 0,
  attemptsInRun: 0,
  nextAttemptAt: 100,
};
const ids = { deliveryId: scheduled.deliveryId, subscriptionId: 'sub-1', customerId: 'acme', eventId: 'ev-1', eventType: 'flotilla.execution.ExecutionCompleted' };

const answered = (statusCode: number, latencyMs = 12): AttemptResult => ({ kind: 'answered', statusCode, latencyMs });
const refused: AttemptResult = { kind: 'no_answer', error: 'connect ECONNREFUSED 203.0.113.7:443', latencyMs: 3 };

function attempt(delivery: Delivery, result: AttemptResult, now: number, random01 = 0.5) {
  return recordAttempt(delivery, result, { schedule, jitterRatio, random01, now });
}

/** Makes each attempt when the delivery is due, as the worker would, until it is no longer pending or the results run out. */
function walk(from: Delivery, results: readonly AttemptResult[], random01 = 0.5) {
  let delivery: Delivery = from;
  const made: { at: number; outcome: string; attempts: number; attemptsInRun: number; status: string }[] = [];
  const events: DeliveryEvent[] = [];
  for (const result of results) {
    if (delivery.status !== 'pending') break;
    const at = delivery.nextAttemptAt;
    const outcome = attempt(delivery, result, at, random01);
    delivery = outcome.delivery;
    events.push(...outcome.events);
    made.push({ at, outcome: outcome.outcome, attempts: delivery.attempts, attemptsInRun: delivery.attemptsInRun, status: delivery.status });
  }
  return { delivery, made, events };
}

function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

describe('delivery', () => {
  it.each([
    [answered(200), 'succeeded'],
    [answered(204), 'succeeded'],
    [answered(299), 'succeeded'],
    [answered(410), 'gone'],
    [answered(199), 'failed'],
    [answered(300), 'failed'], // redirects are not followed
    [answered(301), 'failed'],
    [answered(304), 'failed'],
    [answered(400), 'failed'],
    [answered(404), 'failed'],
    [answered(409), 'failed'],
    [answered(429), 'failed'],
    [answered(500), 'failed'],
    [answered(503), 'failed'],
    [refused, 'failed'],
    [{ kind: 'no_answer', error: 'timed out after 15000 ms', latencyMs: 15_000 } as AttemptResult, 'failed'],
  ])('classifies %j as %s', (result, outcome) => {
    expect(classify(result)).toBe(outcome);
  });

  describe('a failed attempt', () => {
    // attempts made before, random01, the next attempt's time for an attempt failing at 10 000 (±20 % of the entry).
    it.each([
      [0, 0, 10_800],
      [0, 0.5, 11_000],
      [0, 1, 11_200],
      [1, 0, 11_600],
      [1, 0.5, 12_000],
      [1, 1, 12_400],
    ])('after %i earlier attempt(s), with random %d, is tried again at %i', (before, random01, nextAttemptAt) => {
      const delivery = { ...scheduled, attempts: before, attemptsInRun: before };
      const { outcome, delivery: after, events } = attempt(delivery, refused, 10_000, random01);
      expect(outcome).toBe('failed');
      expect(after).toEqual({
        ...delivery, status: 'pending', attempts: before + 1, attemptsInRun: before + 1, nextAttemptAt,
        lastStatus: null, lastError: 'connect ECONNREFUSED 203.0.113.7:443', finishedAt: null,
      });
      expect(events).toEqual([{
        type: 'flotilla.notification.WebhookAttemptRecorded',
        data: {
          ...ids, attempt: before + 1, outcome: 'failed', statusCode: null, error: 'connect ECONNREFUSED 203.0.113.7:443',
          latencyMs: 3, attemptedAt: 10_000, nextAttemptAt,
        },
      }]);
    });

    it('records the status an endpoint answered with as the error', () => {
      const { delivery, events } = attempt(scheduled, answered(503, 40), 100);
      expect(delivery).toMatchObject({ status: 'pending', lastStatus: 503, lastError: 'answered 503', nextAttemptAt: 1_100 });
      expect(events[0].data).toMatchObject({ statusCode: 503, error: 'answered 503', latencyMs: 40, attemptedAt: 100, nextAttemptAt: 1_100 });
    });

    it('does not change the delivery it is given', () => {
      const before = { ...scheduled };
      attempt(scheduled, refused, 100);
      expect(scheduled).toEqual(before);
    });
  });

  it('dead-letters a delivery that used up its schedule, naming the attempts and the last error', () => {
    const { made, delivery, events } = walk(scheduled, [answered(500), refused, answered(502), answered(200)]);
    expect(made).toEqual([
      { at: 100, outcome: 'failed', attempts: 1, attemptsInRun: 1, status: 'pending' },
      { at: 1_100, outcome: 'failed', attempts: 2, attemptsInRun: 2, status: 'pending' },
      { at: 3_100, outcome: 'failed', attempts: 3, attemptsInRun: 3, status: 'dead_lettered' },
    ]);
    expect(delivery).toMatchObject({ status: 'dead_lettered', finishedAt: 3_100, lastStatus: 502, lastError: 'answered 502' });
    expect(events.slice(2)).toEqual([
      {
        type: 'flotilla.notification.WebhookAttemptRecorded',
        data: { ...ids, attempt: 3, outcome: 'failed', statusCode: 502, error: 'answered 502', latencyMs: 12, attemptedAt: 3_100, nextAttemptAt: null },
      },
      {
        type: 'flotilla.notification.WebhookDeliveryDeadLettered',
        data: { ...ids, attempts: 3, reason: 'no success in 3 attempts; the last: answered 502', deadLetteredAt: 3_100 },
      },
    ]);
  });

  it('names an error without a status as the last one when the schedule runs out', () => {
    const { events } = walk(scheduled, [refused, refused, refused]);
    expect(events.at(-1)).toEqual({
      type: 'flotilla.notification.WebhookDeliveryDeadLettered',
      data: { ...ids, attempts: 3, reason: 'no success in 3 attempts; the last: connect ECONNREFUSED 203.0.113.7:443', deadLetteredAt: 3_100 },
    });
  });

  it('dead-letters at once on 410 Gone, with the schedule not used up', () => {
    const { outcome, delivery, events } = attempt(scheduled, answered(410), 100);
    expect(outcome).toBe('gone');
    expect(delivery).toEqual({ ...scheduled, status: 'dead_lettered', attempts: 1, attemptsInRun: 1, lastStatus: 410, lastError: 'answered 410', finishedAt: 100 });
    expect(events).toEqual([
      {
        type: 'flotilla.notification.WebhookAttemptRecorded',
        data: { ...ids, attempt: 1, outcome: 'gone', statusCode: 410, error: 'answered 410', latencyMs: 12, attemptedAt: 100, nextAttemptAt: null },
      },
      {
        type: 'flotilla.notification.WebhookDeliveryDeadLettered',
        data: { ...ids, attempts: 1, reason: 'the endpoint answered 410 Gone: the subscription is disabled', deadLetteredAt: 100 },
      },
    ]);
  });

  it('succeeds on a 2xx, after failures too, with the time it finished', () => {
    const { made, delivery, events } = walk(scheduled, [refused, answered(204, 30)]);
    expect(made.map((m) => m.outcome)).toEqual(['failed', 'succeeded']);
    expect(delivery).toEqual({ ...scheduled, status: 'succeeded', attempts: 2, attemptsInRun: 2, nextAttemptAt: 1_100, lastStatus: 204, lastError: null, finishedAt: 1_100 });
    expect(events.at(-1)).toEqual({
      type: 'flotilla.notification.WebhookAttemptRecorded',
      data: { ...ids, attempt: 2, outcome: 'succeeded', statusCode: 204, error: null, latencyMs: 30, attemptedAt: 1_100, nextAttemptAt: null },
    });
    expect(events).toHaveLength(2);
  });

  it.each([
    ['succeeded', { ...scheduled, status: 'succeeded', attempts: 1, attemptsInRun: 1 } as Delivery],
    ['dead_lettered', { ...scheduled, status: 'dead_lettered', attempts: 3, attemptsInRun: 3 } as Delivery],
  ])('refuses to record an attempt on a %s delivery, so a duplicate report counts nothing twice', (status, delivery) => {
    const error = thrown(() => attempt(delivery, answered(200), 5_000));
    expect(error).toBeInstanceOf(IllegalStateError);
    expect(error).toMatchObject({ code: 'DELIVERY_NOT_PENDING', message: `delivery ${scheduled.deliveryId} is ${status}: an attempt cannot be recorded` });
  });

  describe('abandon', () => {
    it('dead-letters a waiting delivery without an attempt', () => {
      const waiting = { ...scheduled, attempts: 2, attemptsInRun: 2, nextAttemptAt: 3_100 };
      expect(abandon(waiting, 'the subscription was deleted', 2_000)).toEqual({
        delivery: { ...waiting, status: 'dead_lettered', finishedAt: 2_000 },
        events: [{ type: 'flotilla.notification.WebhookDeliveryDeadLettered', data: { ...ids, attempts: 2, reason: 'the subscription was deleted', deadLetteredAt: 2_000 } }],
      });
    });

    it.each(['succeeded', 'dead_lettered'] as const)('refuses a %s delivery, so abandoning twice dead-letters once', (status) => {
      const error = thrown(() => abandon({ ...scheduled, status }, 'disabled', 2_000));
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ code: 'DELIVERY_NOT_PENDING', message: `delivery ${scheduled.deliveryId} is ${status}: it cannot be abandoned` });
    });
  });

  describe('replay', () => {
    const exhausted = walk(scheduled, [refused, refused, refused]).delivery;

    it("waits the schedule's first entry before the replay's first attempt, as before a delivery's first", () => {
      expect(replay(exhausted, 'ops@acme', 50_000, 700).delivery.nextAttemptAt).toBe(50_700);
    });

    it('puts a dead-lettered delivery back in the queue at once, same id, its attempts kept and its run reset', () => {
      const { delivery, events } = replay(exhausted, 'ops@acme', 50_000);
      expect(delivery).toMatchObject({ deliveryId: scheduled.deliveryId, status: 'pending', attempts: 3, attemptsInRun: 0, nextAttemptAt: 50_000 });
      expect(events).toEqual([
        {
          type: 'flotilla.notification.WebhookDeliveryReplayed',
          data: { deliveryId: scheduled.deliveryId, subscriptionId: 'sub-1', customerId: 'acme', replayedBy: 'ops@acme', replayedAt: 50_000 },
        },
      ]);
    });

    it.each(['pending', 'succeeded'] as const)('refuses a %s delivery, so a second replay does nothing', (status) => {
      const delivery = status === 'pending' ? replay(exhausted, 'ops@acme', 50_000).delivery : { ...scheduled, status };
      const error = thrown(() => replay(delivery, 'ops@acme', 50_001));
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ code: 'DELIVERY_NOT_DEAD_LETTERED', message: `delivery ${scheduled.deliveryId} is ${status}: only a dead-lettered delivery can be replayed` });
    });

    it('walks the schedule again from its start and dead-letters again when it runs out', () => {
      const { made, events } = walk(replay(exhausted, 'ops@acme', 50_000).delivery, [answered(500), answered(500), answered(500)]);
      expect(made).toEqual([
        { at: 50_000, outcome: 'failed', attempts: 4, attemptsInRun: 1, status: 'pending' },
        { at: 51_000, outcome: 'failed', attempts: 5, attemptsInRun: 2, status: 'pending' },
        { at: 53_000, outcome: 'failed', attempts: 6, attemptsInRun: 3, status: 'dead_lettered' },
      ]);
      expect(events.map((e) => e.data)).toEqual([
        expect.objectContaining({ attempt: 4, nextAttemptAt: 51_000 }),
        expect.objectContaining({ attempt: 5, nextAttemptAt: 53_000 }),
        expect.objectContaining({ attempt: 6, nextAttemptAt: null }),
        { ...ids, attempts: 6, reason: 'no success in 3 attempts since its replay (6 in all); the last: answered 500', deadLetteredAt: 53_000 },
      ]);
    });

    it('can succeed on its first attempt after the replay', () => {
      const { made, delivery } = walk(replay(exhausted, 'ops@acme', 50_000).delivery, [answered(200)]);
      expect(made).toEqual([{ at: 50_000, outcome: 'succeeded', attempts: 4, attemptsInRun: 1, status: 'succeeded' }]);
      expect(delivery).toMatchObject({ status: 'succeeded', finishedAt: 50_000, lastError: null });
    });
  });
});
