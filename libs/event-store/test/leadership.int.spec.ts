import { stack, testPool, uniqueNamespace, waitFor } from '@flotilla/testing';
import { Pool } from 'pg';
import { AdvisoryLeadership } from '../src';

/**
 * Two contenders for one advisory lock, each on a pool of its own (as two service instances would
 * be). The leader's backend is terminated as a PostgreSQL restart would: the lock passes to the other
 * one, and the first recovers to a standby (connected and listening again) without crashing.
 */
describe('AdvisoryLeadership (real PostgreSQL)', () => {
  const name = `${uniqueNamespace('lead')}.leader`;
  const channel = `${uniqueNamespace('lead')}_wake`;
  const pools: Pool[] = [];
  const leaderships: AdvisoryLeadership[] = [];
  const contender = (onNotification: (payload: string | undefined) => void = () => undefined, onLost: (error: Error) => void = () => undefined) => {
    const pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
    pool.on('error', () => undefined); // idle clients of a terminated session; the leadership's own connection has its own handler
    pools.push(pool);
    const leadership = new AdvisoryLeadership(pool, { name, listen: { channel, onNotification }, onLost });
    leaderships.push(leadership);
    return leadership;
  };
  let admin: Pool;

  beforeAll(() => {
    admin = testPool(2);
  });
  afterAll(async () => {
    // A pool ends only once its connections are back, the leaderships' included.
    await Promise.all(leaderships.map((l) => l.release()));
    await admin.end();
    await Promise.all(pools.map((p) => p.end()));
  });

  /** The backend holding the lock (pg_locks shows a one-key advisory lock as its low 32 bits in objid, objsubid 1). */
  const holder = async (): Promise<number | null> => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
      [name],
    );
    return rows[0]?.pid ?? null;
  };

  it('one leads; killing its backend hands leadership to the other, and the first becomes a standby', async () => {
    const notified: (string | undefined)[] = [];
    const lost: Error[] = [];
    const first = contender((payload) => notified.push(payload), (error) => lost.push(error));
    const second = contender();

    expect(await first.acquire()).toBe(true);
    expect(await second.acquire()).toBe(false);
    expect([first.isLeader(), second.isLeader()]).toEqual([true, false]);
    expect(second.unavailable).toBeNull(); // it reached the database; the lock is simply taken

    // The leader's connection also carries the LISTEN.
    await admin.query(`NOTIFY ${channel}, 'before'`);
    await waitFor('the notification', () => notified.includes('before'));

    const leaderPid = await holder();
    expect(leaderPid).not.toBeNull();
    await admin.query('SELECT pg_terminate_backend($1)', [leaderPid]);

    // The first one notices at once (its connection's error handler), without crashing this process.
    await waitFor('the first contender to drop leadership', () => !first.isLeader());
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: '57P01' }); // admin_shutdown: terminating connection due to administrator command

    // The second one takes over on its next try; the first reconnects as a standby and listens again.
    await waitFor('the second contender to lead', () => second.acquire());
    expect(await first.acquire()).toBe(false);
    expect(first.unavailable).toBeNull();
    expect(await holder()).not.toBe(leaderPid);
    expect(notified).toContain(undefined); // told once after reconnecting: notifications may have been missed
    await admin.query(`NOTIFY ${channel}, 'after'`);
    await waitFor('the notification after the reconnect', () => notified.includes('after'));

    // Released, the lock goes back to whoever asks next.
    await second.release();
    expect(second.isLeader()).toBe(false);
    expect(await first.acquire()).toBe(true);
    await first.release();
    expect(await holder()).toBeNull();
  });

  it('does not throw while PostgreSQL cannot be reached: not the leader, and says why', async () => {
    const nowhere = new Pool({ connectionString: 'postgres://flotilla:flotilla@127.0.0.1:1/flotilla', max: 1, connectionTimeoutMillis: 2_000 });
    pools.push(nowhere);
    const leadership = new AdvisoryLeadership(nowhere, { name });
    expect(await leadership.acquire()).toBe(false);
    expect(leadership.isLeader()).toBe(false);
    expect(leadership.unavailable).toMatchObject({ code: 'ECONNREFUSED' });
    await leadership.release();
  });
});
