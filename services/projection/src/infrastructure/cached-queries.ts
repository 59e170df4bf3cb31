import type Redis from 'ioredis';
import type { CustomerCard, ExecutionFilter, PageRequest, ReadModelChange, ReadModelChanges, ReadModelQueries, SystemOverview } from '../domain/read-models';

/**
 * The hot reads (system overview, customer cards) through Redis, shared by every projection
 * instance. Entries are deleted when the change feed reports a change to what they hold (batched
 * every `flushMs`), and expire after `ttlMs` whatever happens: a cached answer is never older than
 * `ttlMs` and is usually replaced within `flushMs` of the change that made it stale.
 */
export class CachedReadModelQueries implements ReadModelQueries {
  private readonly pendingKeys = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly inner: ReadModelQueries,
    private readonly redis: Redis,
    private readonly prefix: string,
    changes: ReadModelChanges,
    private readonly ttlMs = 2_000,
    private readonly flushMs = 100,
  ) {
    changes.subscribe((batch) => this.invalidate(batch));
  }

  get stats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.hits, misses: this.misses };
  }

  listExecutions(filter: ExecutionFilter, page: PageRequest) {
    return this.inner.listExecutions(filter, page);
  }

  getExecution(executionId: string) {
    return this.inner.getExecution(executionId);
  }

  listAlerts(...args: Parameters<ReadModelQueries['listAlerts']>) {
    return this.inner.listAlerts(...args);
  }

  listSlaViolations(...args: Parameters<ReadModelQueries['listSlaViolations']>) {
    return this.inner.listSlaViolations(...args);
  }

  overview(): Promise<SystemOverview> {
    return this.cached(`${this.prefix}:overview`, () => this.inner.overview());
  }

  getCustomerCard(customerId: string): Promise<CustomerCard | null> {
    return this.cached(`${this.prefix}:card:${customerId}`, () => this.inner.getCustomerCard(customerId));
  }

  /** Lists of cards change with any customer: they are keyed under a generation that any card change bumps. */
  async listCustomerCards(filter: { readonly customerId?: string }, page: PageRequest) {
    const generation = (await this.redis.get(`${this.prefix}:cards:generation`)) ?? '0';
    return this.cached(`${this.prefix}:cards:${generation}:${filter.customerId ?? '*'}:${page.limit}:${page.cursor ?? ''}`, () => this.inner.listCustomerCards(filter, page));
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = await this.redis.get(key).catch(() => null);
    if (hit !== null) {
      this.hits++;
      return JSON.parse(hit) as T;
    }
    this.misses++;
    const value = await load();
    await this.redis.set(key, JSON.stringify(value), 'PX', this.ttlMs).catch(() => undefined);
    return value;
  }

  private invalidate(batch: readonly ReadModelChange[]): void {
    for (const change of batch) {
      if (change.kind === 'overview') this.pendingKeys.add(`${this.prefix}:overview`);
      if (change.kind === 'customer') {
        this.pendingKeys.add(`${this.prefix}:card:${change.id}`);
        this.pendingKeys.add('cards');
      }
    }
    // A burst of events becomes one round trip per flush, not one per event.
    this.flushTimer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  private async flush(): Promise<void> {
    this.flushTimer = null;
    const keys = [...this.pendingKeys];
    this.pendingKeys.clear();
    const bumpCards = keys.includes('cards');
    const plain = keys.filter((k) => k !== 'cards');
    const pipeline = this.redis.pipeline();
    if (plain.length > 0) pipeline.del(...plain);
    if (bumpCards) pipeline.incr(`${this.prefix}:cards:generation`);
    await pipeline.exec().catch(() => undefined);
  }
}
