// Preloaded into the notification service by `npm run bench:notification -- --profile` (node -r),
// never otherwise: times every statement the service sends to PostgreSQL, as the client sees it (from
// the query call to its result, so server time, the loopback round trip and any wait for the
// service's own event loop), and every wait for a pooled connection. Statements are keyed by their
// text (they are all parameterised), the service's schema written <schema>. SIGWINCH writes a
// snapshot to `$BENCH_SQL_TIMING_FILE.<n>.json`: the bench takes one at each end of its measured
// window and subtracts. This exists because pg_stat_statements needs a server restart to load.
import { writeFileSync } from 'node:fs';
import { Client, Pool } from 'pg';

export interface StatementTiming {
  readonly statement: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

export interface TimingSnapshot {
  readonly atMs: number;
  readonly statements: readonly StatementTiming[];
}

const timings = new Map<string, { calls: number; totalMs: number; maxMs: number }>();
const file = process.env.BENCH_SQL_TIMING_FILE;
const schema = process.env.BENCH_SQL_SCHEMA;
const now = () => Number(process.hrtime.bigint()) / 1e6;

const normalizedTexts = new Map<string, string>();

/** The statement's key, cached by its text: the service sends a few dozen distinct texts, thousands of times. */
function normalized(text: string): string {
  let key = normalizedTexts.get(text);
  if (key === undefined) {
    const flat = text.replace(/\s+/g, ' ').trim();
    key = schema ? flat.split(`${schema}.`).join('<schema>.') : flat;
    normalizedTexts.set(text, key);
  }
  return key;
}

function note(key: string, ms: number): void {
  const timing = timings.get(key) ?? { calls: 0, totalMs: 0, maxMs: 0 };
  timing.calls++;
  timing.totalMs += ms;
  timing.maxMs = Math.max(timing.maxMs, ms);
  timings.set(key, timing);
}

type Callback = (...args: unknown[]) => unknown;
type Variadic = (this: unknown, ...args: unknown[]) => unknown;

/** Wraps `method` so that the time from its call to its callback or settled promise is noted under `keyOf(args)`. */
function timed(target: object, name: string, keyOf: (self: unknown, args: readonly unknown[]) => string | null): void {
  const original = (target as Record<string, Variadic>)[name];
  (target as Record<string, Variadic>)[name] = function (this: unknown, ...args: unknown[]) {
    const key = keyOf(this, args);
    if (key === null) return original.apply(this, args);
    const started = now();
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as Callback;
      args[last] = function (this: unknown, ...results: unknown[]) {
        note(key, now() - started);
        return callback.apply(this, results);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => note(key, now() - started),
        () => note(key, now() - started),
      );
    }
    return result;
  };
}

if (file) {
  timed(Client.prototype, 'query', (_self, args) => {
    const config = args[0] as string | { text?: string; submit?: unknown } | undefined;
    if (typeof config === 'string') return normalized(config);
    if (config && typeof config.submit === 'function') return null; // a Submittable: not ours
    return config?.text ? normalized(config.text) : null;
  });
  timed(Pool.prototype, 'connect', (self) => `(wait for a pooled connection, pool of ${(self as { options: { max: number } }).options.max})`);

  let snapshots = 0;
  process.on('SIGWINCH', () => {
    const snapshot: TimingSnapshot = { atMs: now(), statements: [...timings].map(([statement, t]) => ({ statement, ...t })) };
    writeFileSync(`${file}.${snapshots++}.json`, JSON.stringify(snapshot));
  });
}
