import type { Logger } from '@flotilla/observability';
import type { Notification, Pool, PoolClient } from 'pg';

export interface AdvisoryLeadershipOptions {
  /** What is led; the lock is `pg_try_advisory_lock(hashtext(name))`, so every instance must use the same name. */
  readonly name: string;
  /**
   * LISTEN on this channel on the same dedicated connection (leader or not), again after every
   * reconnect; `onNotification` is also called once after a reconnect, since notifications sent
   * while the connection was away are lost.
   */
  readonly listen?: { readonly channel: string; readonly onNotification: (payload: string | undefined) => void };
  /** Leadership was lost without `release()`: the connection failed (the database restarted, the backend was terminated). */
  readonly onLost?: (error: Error) => void;
  readonly logger?: Logger;
}

/**
 * Leadership among instances by a PostgreSQL session advisory lock, held on a dedicated connection
 * (only one session can hold it; the server drops it with the session). The connection has its own
 * error handler: when it fails, leadership is dropped at once (`isLeader()` turns false, `onLost` is
 * called) and the next `acquire()` connects again and tries again, so a database restart costs the
 * leadership but never the process. Nothing here throws on a connection failure; `unavailable` says
 * why the last attempt could not even ask.
 *
 * Operations run one at a time, in call order.
 */
export class AdvisoryLeadership {
  private client: PoolClient | null = null;
  private leader = false;
  private lastError: Error | null = null;
  /** A connection has failed since the last successful connect: the next one is a reconnect. */
  private reconnecting = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly options: AdvisoryLeadershipOptions,
  ) {}

  /** Holds the lock now, as far as this process knows (the connection has not reported a failure). */
  isLeader(): boolean {
    return this.leader;
  }

  /** Why the last attempt could not reach the database, or null when it could. */
  get unavailable(): Error | null {
    return this.lastError;
  }

  /**
   * Leads if it can: true when the lock is held (already, or taken now). Connects (and listens)
   * first when there is no connection. False when another session holds the lock, or when the
   * database cannot be reached (see `unavailable`): call again later.
   */
  acquire(): Promise<boolean> {
    return this.serialized(async () => {
      if (this.leader) return true;
      const client = await this.connection();
      if (!client) return false;
      try {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.options.name]);
        this.leader = rows[0].locked === true && this.client === client;
        if (this.leader) this.options.logger?.info({ lock: this.options.name }, 'leadership acquired');
        return this.leader;
      } catch (error) {
        this.lost(client, error as Error);
        return false;
      }
    });
  }

  /**
   * Gives up leadership and the connection. The lock is unlocked first, so that another instance may
   * take it as soon as this returns; closing the connection (which the server notices a moment later)
   * is what releases it for sure should the unlock not get through.
   */
  release(): Promise<void> {
    return this.serialized(async () => {
      const client = this.client;
      if (!client) return;
      const wasLeader = this.leader;
      this.client = null;
      this.leader = false;
      if (wasLeader) await withTimeout(client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.options.name]), RELEASE_TIMEOUT_MS).catch(() => undefined);
      client.release(true);
      if (wasLeader) this.options.logger?.info({ lock: this.options.name }, 'leadership released');
    });
  }

  private async connection(): Promise<PoolClient | null> {
    if (this.client) return this.client;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      this.unreachable(error as Error);
      return null;
    }
    client.on('error', (error: Error) => this.lost(client, error));
    try {
      const listen = this.options.listen;
      if (listen) {
        client.on('notification', (message: Notification) => {
          if (message.channel === listen.channel) listen.onNotification(message.payload);
        });
        await client.query(`LISTEN ${listen.channel}`);
      }
    } catch (error) {
      client.release(true);
      this.unreachable(error as Error);
      return null;
    }
    this.client = client;
    if (this.lastError || this.reconnecting) this.options.logger?.info({ lock: this.options.name }, 'leadership connection re-established');
    const missed = this.reconnecting;
    this.lastError = null;
    this.reconnecting = false;
    if (missed) this.options.listen?.onNotification(undefined);
    return client;
  }

  /** The dedicated connection failed: leadership is gone with it. Called at most once per connection. */
  private lost(client: PoolClient, error: Error): void {
    if (this.client !== client) return;
    const wasLeader = this.leader;
    this.client = null;
    this.leader = false;
    this.reconnecting = true;
    this.lastError = error;
    client.release(error);
    this.options.logger?.warn({ err: error, lock: this.options.name, wasLeader }, wasLeader ? 'leadership lost with its connection; will try again' : 'leadership connection lost; will reconnect');
    if (wasLeader) this.options.onLost?.(error);
  }

  private unreachable(error: Error): void {
    // One line per outage, not one per attempt.
    if (!this.lastError) this.options.logger?.warn({ err: error, lock: this.options.name }, 'cannot reach PostgreSQL for leadership; will try again');
    this.lastError = error;
    this.reconnecting = true;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

const RELEASE_TIMEOUT_MS = 1_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
