import type { ScalingDecisionRecorded } from '@flotilla/contracts';
import type { NewEvent } from '@flotilla/event-store';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { v7 as uuidv7 } from 'uuid';
import { isStoredScalingPoolEvent, scalingPoolDecider, scalingPoolStreamId, type ScalingPoolCommand, type ScalingPoolEvent, type ScalingPoolState } from './domain/scaling-pool';
import type { ScalingPoolRows } from './ports';
import type { ScaleSagas } from '../sagas/scale-sagas';

/**
 * The one way to change a pool under the scaler: its row locked, the command decided, what says
 * something appended to its stream and queued for flotilla.scaling, the row saved, in one commit.
 * A decision to act (a pool the scaler may act on, whose replicas change) goes to the scale sagas in
 * that same commit, and its event names the saga it started.
 */
export class ScalingPools {
  constructor(
    private readonly platform: Platform,
    private readonly rows: ScalingPoolRows,
    private readonly sagas: ScaleSagas,
  ) {}

  async apply(agentType: string, command: ScalingPoolCommand): Promise<{ readonly state: ScalingPoolState; readonly events: readonly ScalingPoolEvent[] }> {
    const { traceparent } = currentTraceContext();
    const result = await this.platform.store.withTransaction(async (tx) => {
      const row = await this.rows.lock(tx, agentType);
      const decided = scalingPoolDecider.decide(command, row.state);
      if (decided.length === 0) return { state: row.state, events: decided };
      const state = decided.reduce(scalingPoolDecider.evolve, row.state);
      const events = await Promise.all(
        decided.map(async (event): Promise<ScalingPoolEvent> => {
          if (event.type !== 'flotilla.scaling.ScalingDecisionRecorded' || command.type !== 'Evaluate') return event;
          return { ...event, data: { ...event.data, sagaId: await this.startSaga(tx, event.data, command.snapshot.observedAt, command.now) } };
        }),
      );
      const stored = events.filter(isStoredScalingPoolEvent);
      const streamId = scalingPoolStreamId(agentType);
      const news = stored.map((event): NewEvent => ({ eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: command.now, correlationId: agentType, causationId: null, traceparent, tracestate: null } }));
      await this.platform.store.record(tx, [{ streamId, expectedVersion: row.version, events: news }], this.platform.route);
      await this.rows.save(tx, agentType, { state, version: row.version + news.length });
      return { state, events };
    });
    if (result.events.some(isStoredScalingPoolEvent)) this.platform.relay.notifyCommitted();
    return result;
  }

  all(): Promise<Map<string, ScalingPoolState>> {
    return this.rows.all();
  }

  /** A decision acted on becomes a saga (or waits for the running one); a shadow one, or one that changes nothing, does not. */
  private startSaga(tx: Parameters<ScaleSagas['decideWithin']>[0], decision: ScalingDecisionRecorded, observedAt: number, now: number): Promise<string | null> {
    if (decision.mode !== 'act' || decision.direction === 'none') return Promise.resolve(null);
    const reason = decision.stages.length > 0 ? decision.stages.map((s) => `${s.stage}: ${s.note}`).join('; ') : `policy v${decision.policyVersion}: ${decision.currentReplicas} → ${decision.desiredReplicas}`;
    return this.sagas.decideWithin(
      tx,
      { decisionId: decision.decisionId, agentType: decision.agentType, targetReplicas: decision.desiredReplicas, observedReplicas: decision.currentReplicas, observedAt, reason, decidedAt: decision.evaluatedAt },
      now,
    );
  }
}
