import { DurableTimers, type NewEvent, type Transaction } from '@flotilla/event-store';
import type { ConsumedEvent } from '@flotilla/messaging';
import { currentTraceContext, inSpan } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import type { DueTimer } from '@flotilla/event-store';
import { v7 as uuidv7 } from 'uuid';
import { decidePoolSagas, evolvePoolSagas, initialPoolSagasState, sagaEnding, type PoolSagasCommand, type ScaleDecision } from './domain/pool-sagas';
import { isScaleSagaEnded, scaleSagaStreamId, type ScaleSagaSettings, type ScaleSagaState, type ScaleSagaTimer } from './domain/scale-saga';
import { scaleSagaDecider, type ScaleSagaInput, type ScaleSagaPolicy } from './domain/scale-saga.decider';
import { sagaIdOfReply, type ScaleSagaReply } from './domain/scale-saga-messages';
import type { SagaRows, Versioned } from './ports';

/** What a saga of a pool starts with besides its decision: the price it reserves at, the pool's saga policy. */
export interface SagaStartContext {
  readonly workerHourPriceMicros: number;
  readonly policy: ScaleSagaPolicy;
}

const poolSagasStreamId = (agentType: string) => `PoolSagas-${agentType}`;

/**
 * The scale sagas, durable: each saga's state is its row (locked by the transaction that decides on
 * it) and its events its stream; what it sends (budget commands, replica requests) goes through the
 * outbox in the same commit, with the saga's trace; its step timers are durable timers in that commit
 * too. A reply or a timer is applied once (inbox). One saga per pool: the pool's row coalesces the
 * decisions that arrive meanwhile, and a saga's end, in the same transaction as its last event,
 * starts the next one if a decision is waiting.
 */
export class ScaleSagas {
  readonly timers: DurableTimers<ScaleSagaTimer>;
  private readonly decider;

  constructor(
    private readonly platform: Platform,
    private readonly rows: SagaRows,
    private readonly contextOf: (agentType: string) => SagaStartContext,
    settings?: ScaleSagaSettings,
    private readonly newId: () => string = uuidv7,
  ) {
    this.timers = new DurableTimers<ScaleSagaTimer>(platform.pool, platform.store.schema);
    this.decider = scaleSagaDecider(settings);
  }

  /** In the caller's transaction (the one recording the decision): starts the decision's saga, or keeps it until the running one ends. The saga started, if any. */
  async decideWithin(tx: Transaction, decision: ScaleDecision, now: number): Promise<string | null> {
    return this.poolWithin(tx, decision.agentType, { type: 'DecideScale', decision, sagaId: this.newId(), now });
  }

  /** A reply of the optimizer or the agent pool, applied once to the saga it names (if any). */
  async reply(event: ConsumedEvent): Promise<void> {
    const reply = { type: event.envelope.eventType, data: event.envelope.payload } as ScaleSagaReply;
    const sagaId = sagaIdOfReply(reply);
    if (!sagaId) return;
    await this.platform.store.withTransaction(async (tx) => {
      if (!(await this.platform.store.recordInbox(tx, 'scaler.saga-replies', event.envelope.eventId))) return;
      const row = await this.rows.lockSaga(tx, sagaId);
      if (row) await this.sagaWithin(tx, sagaId, row.agentType, row, { type: 'ReceiveReply', reply, now: Date.now() });
    });
    this.platform.relay.notifyCommitted();
  }

  /** A step's timer, applied once (a firing after the step moved on decides nothing). */
  async fire(timer: DueTimer<ScaleSagaTimer>): Promise<void> {
    await this.platform.store.withTransaction(async (tx) => {
      if (!(await this.platform.store.recordInbox(tx, 'scaler.saga-timers', `${timer.timerId}@${timer.dueAt}`))) return;
      const row = await this.rows.lockSaga(tx, timer.payload.sagaId);
      if (row) await this.sagaWithin(tx, timer.payload.sagaId, row.agentType, row, { type: 'FireTimer', timer: timer.payload, now: Date.now() });
    });
    this.platform.relay.notifyCommitted();
  }

  private async poolWithin(tx: Transaction, agentType: string, command: PoolSagasCommand): Promise<string | null> {
    const row = (await this.rows.lockPool(tx, agentType)) ?? { state: initialPoolSagasState(agentType), version: 0 };
    const decided = decidePoolSagas(command, row.state);
    if (decided.events.length === 0) return null;
    const state = decided.events.reduce(evolvePoolSagas, row.state);
    await this.publish(tx, poolSagasStreamId(agentType), row.version, decided.events, command.type === 'DecideScale' ? command.decision.decisionId : command.sagaId, currentTraceContext().traceparent);
    await this.rows.savePool(tx, agentType, { state, version: row.version + decided.events.length });
    if (!decided.start) return null;
    const start = decided.start;
    const context = this.contextOf(agentType);
    // One trace per saga: its span begins here, and every message and timer of the saga carries it on.
    await inSpan('scale.saga', { attributes: { 'flotilla.saga_id': start.sagaId, 'flotilla.agent_type': agentType, 'flotilla.correlation_id': start.sagaId } }, async () => {
      const { traceparent } = currentTraceContext();
      await this.sagaWithin(tx, start.sagaId, agentType, { state: this.decider.initialState, version: 0 }, { type: 'StartScaleSaga', ...start, ...context, traceparent, now: Date.now() });
    });
    return start.sagaId;
  }

  private async sagaWithin(tx: Transaction, sagaId: string, agentType: string, row: Versioned<ScaleSagaState>, input: ScaleSagaInput): Promise<void> {
    const decided = this.decider.decide(input, row.state);
    if (decided.events.length === 0 && decided.commands.length === 0 && decided.timers.schedule.length === 0 && decided.timers.cancel.length === 0) return;
    const state = decided.events.reduce(this.decider.evolve, row.state);
    const streamId = scaleSagaStreamId(sagaId);
    const traceparent = state.status === 'NotStarted' ? null : state.traceparent;
    await this.publish(tx, streamId, row.version, decided.events, sagaId, traceparent);
    await this.platform.store.queue(
      tx,
      decided.commands.map((command) => ({
        event: { eventId: uuidv7(), eventType: command.type, data: command.data, metadata: { occurredAt: input.now, correlationId: sagaId, causationId: null, traceparent, tracestate: null } },
        aggregateId: streamId,
        aggregateVersion: row.version + decided.events.length,
      })),
      this.platform.route,
    );
    await this.timers.applyChanges(tx, [
      { streamId, cancelAll: false, cancel: [...decided.timers.cancel], schedule: decided.timers.schedule.map((t) => ({ timerId: t.timerId, streamId, dueAt: t.dueAt, payload: t })), traceparent },
    ]);
    await this.rows.saveSaga(tx, sagaId, agentType, { state, version: row.version + decided.events.length }, isScaleSagaEnded(state));
    // Its end frees the pool, in the same commit: a crash between the two would leave the pool blocked.
    for (const event of decided.events) {
      const ending = sagaEnding(event);
      if (ending) await this.poolWithin(tx, agentType, { type: 'EndSaga', ...ending, nextSagaId: this.newId(), now: input.now });
    }
  }

  /** Appends `events` to the stream and queues them for their topics, in the caller's transaction. */
  private async publish(tx: Transaction, streamId: string, version: number, events: readonly { readonly type: string; readonly data: unknown }[], correlationId: string, traceparent: string | null): Promise<void> {
    if (events.length === 0) return;
    const stored = events.map((event): NewEvent => ({ eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: Date.now(), correlationId, causationId: null, traceparent, tracestate: null } }));
    await this.platform.store.record(tx, [{ streamId, expectedVersion: version, events: stored }], this.platform.route);
  }
}
