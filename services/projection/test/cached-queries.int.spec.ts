import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ChangeFeed } from '../src/live-stream/change-feed';
import type { CustomerCard, ReadModelChange, ReadModelQueries, SystemOverview } from '../src/read-models/domain/read-models';
import { CachedReadModelQueries } from '../src/read-models/infrastructure/cached-queries';
import { waitFor } from '@flotilla/testing';

/**
 * The Redis cache of the hot reads, on the real Redis, in front of read models kept in memory here
 * (the PostgreSQL queries behind it are the e2e tests' business): what it serves from Redis, what a
 * committed change deletes and when, its bound on staleness, and reads with Redis gone.
 */
describe('cached read-model queries', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  afterAll(() => redis.quit());

  /** Read models held in memory, counting how often the cache had to ask them. */
  class ReadModels {
    loads = 0;
    active = 0;
    cards = new Map<string, number>();
    overview = async (): Promise<SystemOverview> => {
      this.loads++;
      return { active: this.active } as SystemOverview;
    };
    getCustomerCard = async (customerId: string): Promise<CustomerCard | null> => {
      this.loads++;
      return this.cards.has(customerId) ? ({ customerId, successRate: this.cards.get(customerId) } as unknown as CustomerCard) : null;
    };
    listCustomerCards = async () => {
      this.loads++;
      return { items: [...this.cards.keys()].map((customerId) => ({ customerId }) as unknown as CustomerCard), nextCursor: null };
    };
  }

  const setUp = (ttlMs = 2_000, client: Redis = redis) => {
    const models = new ReadModels();
    const feed = new ChangeFeed();
    const prefix = `cache-test:${randomUUID()}`;
    const cached = new CachedReadModelQueries(models as unknown as ReadModelQueries, client, prefix, feed, ttlMs);
    return { models, feed, prefix, cached };
  };
  const change = (kind: ReadModelChange['kind'], id: string): ReadModelChange => ({ kind, id, customerId: kind === 'customer' ? id : null, at: new Date().toISOString() });

  it('serves a repeated overview from Redis, where it is kept for at most the TTL', async () => {
    const { models, prefix, cached } = setUp(2_000);
    models.active = 3;
    expect(await cached.overview()).toMatchObject({ active: 3 });
    models.active = 4; // changed without an event: the cache does not know yet
    expect(await cached.overview()).toMatchObject({ active: 3 });
    expect(models.loads).toBe(1);
    expect(cached.stats).toEqual({ hits: 1, misses: 1 });
    const ttl = await redis.pttl(`${prefix}:overview`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
  });

  it('deletes the overview on a committed change before any listener hears of it', async () => {
    const { models, feed, cached } = setUp();
    models.active = 1;
    await cached.overview();
    models.active = 2;
    const seenByListener: number[] = [];
    feed.subscribe(() => void cached.overview().then((o) => seenByListener.push(o.active)));
    await feed.publish([change('overview', 'system')]);
    await waitFor('the listener to read the overview', () => seenByListener.length > 0, { timeoutMs: 5_000, intervalMs: 5 });
    expect(seenByListener).toEqual([2]);
  });

  it('deletes only the changed customer card, and any cached list of cards', async () => {
    const { models, feed, cached } = setUp();
    models.cards.set('acme', 0.5).set('globex', 0.9);
    await cached.getCustomerCard('acme');
    await cached.getCustomerCard('globex');
    expect((await cached.listCustomerCards({}, { limit: 50, cursor: null })).items).toHaveLength(2);
    models.cards.set('acme', 0.75).set('initech', 1);
    await feed.publish([change('customer', 'acme')]);
    const loadsBefore = models.loads;
    expect(await cached.getCustomerCard('acme')).toMatchObject({ successRate: 0.75 });
    expect(await cached.getCustomerCard('globex')).toMatchObject({ successRate: 0.9 });
    expect((await cached.listCustomerCards({}, { limit: 50, cursor: null })).items).toHaveLength(3);
    expect(models.loads - loadsBefore).toBe(2); // acme's card and the list; globex came from Redis
  });

  it('lets an entry expire after the TTL even if no change ever deletes it', async () => {
    const { models, cached } = setUp(150);
    models.active = 1;
    await cached.overview();
    models.active = 2;
    // Still the cached value before its TTL, the new one once it has passed: wait for that, not a time.
    const cachedAt = Date.now();
    expect(await cached.overview()).toMatchObject({ active: 1 });
    await waitFor('the cached overview to expire', async () => (await cached.overview()).active === 2, { timeoutMs: 5_000, intervalMs: 20 });
    expect(Date.now() - cachedAt).toBeGreaterThanOrEqual(100);
  });

  it('answers from the read models when Redis cannot be reached, and a change still reaches listeners', async () => {
    const unreachable = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    unreachable.on('error', () => undefined);
    const { models, feed, cached } = setUp(2_000, unreachable);
    models.active = 7;
    expect(await cached.overview()).toMatchObject({ active: 7 });
    expect(await cached.overview()).toMatchObject({ active: 7 });
    expect(models.loads).toBe(2);
    const heard: ReadModelChange[][] = [];
    feed.subscribe((changes) => heard.push([...changes]));
    await feed.publish([change('overview', 'system')]);
    expect(heard).toHaveLength(1);
    unreachable.disconnect();
  });
});
