import type Redis from 'ioredis';
import type { ChangeFeed } from '../../live-stream/change-feed';
import type { CustomerCard, ExecutionFilter, PageRequest, ReadModelChange, ReadModelQueries, SystemOverview } from '../domain/read-models';

/**
 * The hot reads (system overview, customer cards) through Redis, shared by every projection
 * instance. Entries are deleted right after the commit of a change to what they hold, before the
 * live stream announces it, and expire after `ttlMs` whatever happens (a backstop, e.g. for a
 * process killed between commit and deletion): a cached answer is never older than `ttlMs`.
 */
export class CachedReadModelQueries implements ReadModelQueries {
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly inner: ReadModelQueries,
    private readonly redis: Redis,
    private readonly prefix: string,
    changes: ChangeFeed,
    private readonly ttlMs = 2_000,
  ) {
    changes.beforeNotifying((batch) => this.invalidate(batch));
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

  /** Deletes what a committed change made stale, before the stream tells anyone about it. */
  private async invalidate(batch: readonly ReadModelChange[]): Promise<void> {
    const keys = new Set<string>();
    let bumpCards = false;
    for (const change of batch) {
      if (change.kind === 'overview') keys.add(`${this.prefix}:overview`);
      if (change.kind === 'customer') {
        keys.add(`${this.prefix}:card:${change.id}`);
        bumpCards = true;
      }
    }
    const pipeline = this.redis.pipeline();
    if (keys.size > 0) pipeline.del(...keys);
    if (bumpCards) pipeline.incr(`${this.prefix}:cards:generation`);
    await pipeline.exec();
  }
}
