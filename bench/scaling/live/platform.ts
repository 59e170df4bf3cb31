import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import type { Pool } from 'pg';
import type { ScalingPolicy } from '../../../services/scaler/src/policies/domain/scaling-policy';
import { EventDriver, type TopicTail } from '../../../test/e2e/support/event-driver';
import { token } from '../../../test/e2e/support/tokens';

export const AGENT_TYPE = 'code_gen';

export interface LivePoolSettings {
  readonly initialReplicas: number;
  readonly maxReplicas: number;
  readonly slotsPerWorker: number;
  /** SCALER_INTERVAL_MS: how often the scaler evaluates the pool. */
  readonly evaluateEveryMs: number;
}

/**
 * The real platform of the scaler's e2e suite: the agent pool provisioning `code_gen` as worker
 * processes (synthetic executor: a task's `duration_ms` is its run time), the optimizer (the scale
 * saga asks it for a reservation; with no budget for the pool it is waived), and the scaler acting on
 * the pool. Everything else at the services' defaults (reports every 5 s, metrics stale after 20 s,
 * one dispatch waiting locally per slot). Tails of the topics the bench reads.
 */
export class LivePlatform {
  private flotilla: Flotilla<'agent-pool' | 'optimizer' | 'scaler'> | null;
  private driverConnected = false;
  private readonly tails: TopicTail<unknown>[] = [];
  private opsToken = '';
  private db: Pool | null = null;
  readonly driver: EventDriver;
  readonly namespace: string;
  /** The services' logs, relative to the repository. */
  readonly logs: readonly string[];
  taskEvents!: TopicTail<unknown>;
  poolEvents!: TopicTail<unknown>;
  scaling!: TopicTail<unknown>;
  poolMetrics!: TopicTail<unknown>;

  private constructor(flotilla: Flotilla<'agent-pool' | 'optimizer' | 'scaler'>) {
    this.flotilla = flotilla;
    this.namespace = flotilla.namespace;
    this.logs = Object.values(flotilla.services).map((s) => s.log);
    this.driver = new EventDriver(flotilla.namespace);
  }

  /** Starts the services and the tails; on a failure, stops whatever it started before throwing. */
  static async start(settings: LivePoolSettings): Promise<LivePlatform> {
    const flotilla = await startFlotilla({
      namespacePrefix: 'sclive',
      services: ['agent-pool', 'optimizer', 'scaler'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        'agent-pool': {
          AGENT_TYPES: AGENT_TYPE,
          PROVISIONED_AGENT_TYPES: AGENT_TYPE,
          POOL_SLOTS_PER_WORKER: String(settings.slotsPerWorker),
          POOL_INITIAL_REPLICAS: String(settings.initialReplicas),
          POOL_MAX_REPLICAS: String(settings.maxReplicas),
        },
        scaler: { SCALED_AGENT_TYPES: AGENT_TYPE, SCALER_INTERVAL_MS: String(settings.evaluateEveryMs) },
      },
    });
    const live = new LivePlatform(flotilla);
    try {
      live.opsToken = await token({ role: 'ops' });
      await live.driver.connect();
      live.driverConnected = true;
      const tail = async (topic: string) => {
        const t = await live.driver.tail<unknown>(topic);
        live.tails.push(t);
        return t;
      };
      live.taskEvents = await tail('flotilla.task-events');
      live.poolEvents = await tail('flotilla.pool-events');
      live.scaling = await tail('flotilla.scaling');
      live.poolMetrics = await tail('flotilla.pool-metrics');
    } catch (error) {
      await live.stop();
      throw error;
    }
    return live;
  }

  /** Until the pool's first replicas are all ready (as its pool events say). */
  async initialWorkersReady(replicas: number, timeoutMs = 180_000): Promise<void> {
    await waitFor(
      `the pool's ${replicas} initial workers to be ready`,
      () => this.poolEvents.events.some((e) => e.type === 'flotilla.pool.PoolWorkerReady' && (e.payload as { readyReplicas: number }).readyReplicas >= replicas),
      { timeoutMs, intervalMs: 200 },
    );
  }

  /**
   * Sets the pool's policy over the scaler's API to `policy` (the simulation's, version and agent type
   * left out) and checks that the scaler keeps it as it is; then waits until the scaler sees the pool's
   * replicas ready, so that its first evaluation starts from them.
   */
  async setPolicy(policy: ScalingPolicy, readyReplicas: number): Promise<ScalingPolicy> {
    const { version: _version, agentType: _agentType, ...body } = policy;
    const set = await this.http('PUT', `/v1/pools/${AGENT_TYPE}/policy`, body);
    if (set.status !== 200) throw new Error(`the scaler refused the policy (${set.status}): ${JSON.stringify(set.body)}`);
    const kept = set.body.policy as ScalingPolicy;
    const { version: _v, agentType: _a, ...keptBody } = kept;
    if (stable(keptBody) !== stable(body)) throw new Error(`the scaler keeps another policy than the simulation's:\n  sent ${stable(body)}\n  kept ${stable(keptBody)}`);
    await waitFor(
      `the scaler to see ${readyReplicas} ready replicas`,
      async () => {
        const view = (await this.http('GET', `/v1/pools/${AGENT_TYPE}`)).body.replicas as { replicas: number; readyReplicas: number } | null;
        return view !== null && view.replicas === readyReplicas && view.readyReplicas === readyReplicas;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    return kept;
  }

  /**
   * When the scaler evaluated the pool (ms since the epoch, ascending), as far as its row's history
   * still holds them: every evaluation with a recommendation adds one, older ones leave with the
   * policy's windows. Not on Kafka (ScalingHistoryAdvanced moves the row only): read from the
   * scaler's table, for the bench alone.
   */
  async evaluationTimes(): Promise<number[]> {
    this.db ??= testPool(1);
    const { rows } = await this.db.query(`SELECT state FROM ${this.flotilla!.schema('scaler')}.scaling_pools WHERE agent_type = $1`, [AGENT_TYPE]);
    const state = rows[0]?.state as { history?: { recommendations?: { at: number }[] } | null } | undefined;
    return [...new Set((state?.history?.recommendations ?? []).map((r) => r.at))].sort((a, b) => a - b);
  }

  async http(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.flotilla!.url('scaler')}${url}`, {
      method,
      headers: { authorization: `Bearer ${this.opsToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Waits until every tail holds what its topic had when this was called. */
  async caughtUp(): Promise<void> {
    await Promise.all(this.tails.map((t) => t.caughtUp(60_000)));
  }

  /** Stops the tails, the driver and the services; each step even if another failed. Idempotent. */
  async stop(): Promise<void> {
    const problems: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(error);
      }
    };
    await Promise.all(this.tails.splice(0).map((t) => attempt(() => t.stop())));
    if (this.driverConnected) {
      this.driverConnected = false;
      await attempt(() => this.driver.disconnect());
    }
    const db = this.db;
    this.db = null;
    if (db) await attempt(() => db.end());
    const flotilla = this.flotilla;
    this.flotilla = null;
    if (flotilla) await attempt(() => flotilla.stop());
    if (problems.length > 0) throw new Error(`stopping the live platform: ${problems.map((p) => (p as Error).message ?? String(p)).join('; ')}`);
  }
}

/** JSON with object keys sorted, to compare two policies field by field. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}
