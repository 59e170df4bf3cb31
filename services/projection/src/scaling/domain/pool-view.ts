import { isInFlight, type SagaRecord } from './saga-view';
import type { SagaSummary, ScalingPoolView } from './scaling-views';

/** A pool's row as stored; times in epoch ms. */
export interface PoolRecord {
  readonly agentType: string;
  readonly policy: {
    readonly json: Readonly<Record<string, unknown>>;
    readonly version: number;
    readonly template: string | null;
    readonly definedAt: number;
    readonly definedBy: string;
    readonly removedAt: number | null;
  } | null;
  readonly override: { readonly replicas: number; readonly reason: string; readonly expiresAt: number; readonly setBy: string; readonly setAt: number } | null;
  readonly paused: { readonly reason: string; readonly by: string; readonly at: number } | null;
  readonly replicas: { readonly desired: number; readonly ready: number; readonly at: number; readonly provisioner: string | null; readonly slotsPerWorker: number | null } | null;
  readonly lastDecision: { readonly decisionId: string; readonly evaluatedAt: number } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

export function sagaSummary(saga: SagaRecord): SagaSummary {
  return {
    sagaId: saga.sagaId,
    status: saga.status,
    direction: saga.direction,
    fromReplicas: saga.fromReplicas,
    toReplicas: saga.toReplicas,
    startedAt: saga.startedAt === null ? null : iso(saga.startedAt),
    lastStep: saga.steps[saga.steps.length - 1] ?? null,
  };
}

/** A pool as the API shows it at `now`: an override past its expiry is shown inactive (the scaler clears it at its next evaluation). */
export function poolView(pool: PoolRecord, sagaInFlight: SagaRecord | null, now: number): ScalingPoolView {
  const p = pool.policy;
  const predictive = p?.json.predictive;
  const mode = predictive !== null && typeof predictive === 'object' ? (predictive as Record<string, unknown>).mode : undefined;
  return {
    agentType: pool.agentType,
    policy: p && {
      version: p.version,
      template: p.template,
      minReplicas: int(p.json.minReplicas),
      maxReplicas: int(p.json.maxReplicas),
      predictiveMode: typeof mode === 'string' ? mode : null,
      definedAt: iso(p.definedAt),
      definedBy: p.definedBy,
      removedAt: p.removedAt === null ? null : iso(p.removedAt),
      policy: p.json,
    },
    override: pool.override && { ...pool.override, expiresAt: iso(pool.override.expiresAt), setAt: iso(pool.override.setAt), active: pool.override.expiresAt > now },
    paused: pool.paused && { ...pool.paused, at: iso(pool.paused.at) },
    replicas: pool.replicas && { ...pool.replicas, at: iso(pool.replicas.at) },
    sagaInFlight: sagaInFlight && isInFlight(sagaInFlight.status) ? sagaSummary(sagaInFlight) : null,
    lastDecision: pool.lastDecision && { decisionId: pool.lastDecision.decisionId, evaluatedAt: iso(pool.lastDecision.evaluatedAt) },
  };
}
