import type { Admin, Kafka } from 'kafkajs';
import type { Pool } from 'pg';

/** How long one check may take before the dependency counts as unreachable. */
const CHECK_TIMEOUT_MS = 2_000;
/** A result is reused this long: probes (load balancers, tests) may poll /ready often. */
const RESULT_TTL_MS = 1_000;

/**
 * One dependency's reachability, checked on demand with a short timeout and cached briefly; one
 * check at a time (callers meanwhile share it). 'ok', or 'unreachable: <why>'.
 */
export class DependencyProbe {
  private last: { readonly at: number; readonly status: string } | null = null;
  private running: Promise<string> | null = null;

  constructor(
    private readonly check: () => Promise<unknown>,
    private readonly timeoutMs = CHECK_TIMEOUT_MS,
    private readonly ttlMs = RESULT_TTL_MS,
  ) {}

  status(): Promise<string> {
    if (this.last && Date.now() - this.last.at < this.ttlMs) return Promise.resolve(this.last.status);
    this.running ??= withTimeout(this.check(), this.timeoutMs)
      .then(
        () => 'ok',
        (error: unknown) => `unreachable: ${describe(error)}`,
      )
      .then((status) => {
        this.last = { at: Date.now(), status };
        this.running = null;
        return status;
      });
    return this.running;
  }
}

/**
 * What a service needs to work, each named in /ready: PostgreSQL (a `SELECT 1` through the pool),
 * Kafka (a metadata request on an admin connection of its own, without kafkajs's retries) and the
 * schema registry (its global config, a few bytes).
 */
export class DependencyChecks {
  // The connection being made or made: concurrent checks share it rather than each open one.
  private admin: Promise<Admin> | null = null;
  private readonly probes: Readonly<Record<string, DependencyProbe>>;

  constructor(deps: { readonly pool: Pool; readonly kafka: Kafka; readonly registryUrl: string }) {
    this.probes = {
      postgres: new DependencyProbe(() => deps.pool.query('SELECT 1')),
      kafka: new DependencyProbe(async () => {
        if (!this.admin) {
          const admin = deps.kafka.admin({ retry: { retries: 0 } });
          const connecting = admin.connect().then(() => admin);
          // A failed connection is not kept: the next check connects again.
          connecting.catch(() => {
            if (this.admin === connecting) this.admin = null;
          });
          this.admin = connecting;
        }
        await (await this.admin).describeCluster();
      }),
      registry: new DependencyProbe(async () => {
        const response = await fetch(`${deps.registryUrl.replace(/\/$/, '')}/config`, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      }),
    };
  }

  /** Every dependency's status, checked side by side. */
  async statuses(): Promise<Record<string, string>> {
    const entries = await Promise.all(Object.entries(this.probes).map(async ([name, probe]) => [name, await probe.status()] as const));
    return Object.fromEntries(entries);
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // node-postgres and fetch put the socket error (ECONNREFUSED …) in `code` or in the cause.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = (error as { code?: unknown }).code ?? cause?.code;
  const message = error.message || (typeof cause?.message === 'string' ? cause.message : '') || error.name;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
