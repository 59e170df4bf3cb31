// npm run bench:notification — signed webhook deliveries per second through the real notification
// service (events on flotilla.executions → fan-out → delivery rows → leasing worker → undici POST,
// signed per Standard Webhooks → attempt recorded), to a local receiver in a child process answering
// 204 at once, for N events fanned out to 1 and to 4 subscriptions; event→delivered latency p50/p99
// from each event's publish time (carried in its payload) to its receipt. Next to it, in the same
// run and against the same receiver: a bare undici POST loop with the same body size, HMAC signing
// included, at the concurrency the service may use for those subscriptions. Medians of several runs.
// `--profile` also profiles the service over the measured runs: V8 CPU profile (self time), its
// statements timed client-side, its database connections sampled, its row traffic.
//
//   npm run bench:notification -- --events 2000 --subscriptions 1,4 --runs 3 --concurrency 32 [--per-subscription 8] [--profile [--profile-dir dir]]
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { notificationConfig } from '../services/notification/src/notification.config';
import { postLoop } from './notification/baseline';
import { summarizeProfile, type ProfileSummary } from './notification/cpu-profile';
import { ActivitySampler, serverStatements, statementStatsLoaded, statementsBetween, tableTraffic, trafficBetween, type ActivityProfile, type ServerStatement, type TableTraffic } from './notification/database-profile';
import { loadAverage, machine } from './notification/machine';
import { monotonicMs, runTag, type RunReceipts } from './notification/protocol';
import { Receiver } from './notification/receiver';
import { NotificationService, type Subscribed } from './notification/service';
import type { TimingSnapshot } from './notification/sql-timing';
import { ensureStack, fmt, median, percentile } from './support';

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    subscriptions: { type: 'string', default: '1,4' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string' },
    'per-subscription': { type: 'string' },
    warmup: { type: 'string', default: '200' },
    'paced-seconds': { type: 'string', default: '8' },
    'database-url': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
  },
  strict: true,
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}

const EVENTS = positive('events', flags.events!);
const RUNS = positive('runs', flags.runs!);
const WARMUP = positive('warmup', flags.warmup!);
const BASELINE_WARMUP = 10_000;
const PACED_SECONDS = Number(flags['paced-seconds']);
if (!(PACED_SECONDS >= 0)) throw new Error(`--paced-seconds must be 0 (no paced load) or more, got ${flags['paced-seconds']}`);
const SCENARIOS = [...new Set(flags.subscriptions!.split(',').map((s) => positive('subscriptions', s.trim())))].sort((a, b) => a - b);
if (RUNS > 99 || SCENARIOS.some((s) => s > 99)) throw new Error('at most 99 runs and 99 subscriptions (run tags are of fixed width)');
// The service's own defaults when not given: what it runs with as deployed.
const CONCURRENCY = flags.concurrency === undefined ? notificationConfig.DELIVERY_CONCURRENCY.parse(undefined) : positive('concurrency', flags.concurrency);
const PER_SUBSCRIPTION = flags['per-subscription'] === undefined ? notificationConfig.DELIVERY_CONCURRENCY_PER_SUBSCRIPTION.parse(undefined) : positive('per-subscription', flags['per-subscription']);
const PROFILE_DIR = flags.profile ? path.resolve(flags['profile-dir'] ?? `test-results/notification-profile-${Date.now()}`) : undefined;

interface Figures {
  readonly perSecond: number;
  /** From each item's own start (the event's publish, the request's send) to its receipt. */
  readonly p50: number;
  readonly p99: number;
  /** From the first item's start: every event is published at once, so this is the burst's latency. */
  readonly fromStartP50: number;
  readonly fromStartP99: number;
  readonly duplicates: number;
}

function figures(receipts: RunReceipts, expected: number): Figures {
  if (receipts.count < expected) throw new Error(`the receiver has ${receipts.count} of ${expected}`);
  const latencies = [...receipts.latencies].sort((a, b) => a - b);
  const fromStart = receipts.receivedAt.map((t) => t - receipts.firstPublishedAt).sort((a, b) => a - b);
  return {
    perSecond: receipts.count / ((receipts.lastReceivedAt - receipts.firstPublishedAt) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    fromStartP50: percentile(fromStart, 50),
    fromStartP99: percentile(fromStart, 99),
    duplicates: receipts.duplicates,
  };
}

interface Scenario {
  readonly subscriptions: number;
  readonly customerId: string;
  /** Receiver endpoints, one per subscription. */
  readonly endpoints: readonly number[];
  readonly subscribed: Subscribed[];
  /** What the service may have in flight for these subscriptions, and so the baseline's concurrency. */
  readonly concurrency: number;
  readonly service: (Figures & { readonly cpuMsPerDelivery: number })[];
  readonly baseline: Figures[];
  /** Events per second of the paced load (half the median burst), and what each run saw. */
  pacedPerSecond: number;
  readonly paced: Figures[];
  sample: RunReceipts['sample'];
}

/** Deliveries the service made in the measured runs (bursts and paced), for figures per delivery. */
let measuredDeliveries = 0;

async function deliveredAll(receiver: Receiver, tag: string, expected: number): Promise<void> {
  const deadline = Date.now() + 60_000 + expected * 50;
  while ((await receiver.count(tag)) < expected) {
    if (Date.now() > deadline) throw new Error(`${tag}: ${await receiver.count(tag)} of ${expected} deliveries arrived in time`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // polling the receiver's count
  }
}

/** One burst through the service: `events` published at once for the scenario's customer, until every delivery arrived. */
async function throughService(service: NotificationService, receiver: Receiver, scenario: Scenario, tag: string, events: number) {
  const expected = events * scenario.subscriptions;
  const cpuBefore = service.cpuMs();
  await service.publish(tag, scenario.customerId, events);
  await deliveredAll(receiver, tag, expected);
  const receipts = await receiver.receipts(tag);
  if (!tag.startsWith('w')) measuredDeliveries += expected;
  // The records of the last attempts are part of the work: CPU is read once they are all committed.
  await service.settled();
  const cpuMsPerDelivery = (service.cpuMs() - cpuBefore) / expected;
  await receiver.forget(tag);
  return { receipts, figures: { ...figures(receipts, expected), cpuMsPerDelivery } };
}

/** A paced load through the service: `events` at `perSecond`, each event's latency from its own publish. */
async function pacedThroughService(service: NotificationService, receiver: Receiver, scenario: Scenario, tag: string, events: number, perSecond: number): Promise<Figures> {
  const expected = events * scenario.subscriptions;
  await service.publishPaced(tag, scenario.customerId, events, perSecond);
  await deliveredAll(receiver, tag, expected);
  measuredDeliveries += expected;
  const receipts = await receiver.receipts(tag);
  await service.settled();
  await receiver.forget(tag);
  return figures(receipts, expected);
}

async function throughBaseline(receiver: Receiver, scenario: Scenario, tag: string, requests: number): Promise<Figures> {
  await postLoop({ tag, urls: scenario.endpoints.map((e) => receiver.url(e)), requests, concurrency: scenario.concurrency, sampleBody: scenario.sample!.body });
  await deliveredAll(receiver, tag, requests);
  const receipts = await receiver.receipts(tag);
  await receiver.forget(tag);
  return figures(receipts, requests);
}

interface Profiled {
  readonly deliveries: number;
  readonly cpu: ProfileSummary | null;
  readonly statements: readonly { statement: string; calls: number; totalMs: number; maxMs: number }[];
  readonly activity: ActivityProfile;
  readonly traffic: readonly TableTraffic[];
  readonly server: readonly ServerStatement[] | string;
}

async function main() {
  const startedAt = Date.now();
  await ensureStack();
  const loadAtStart = loadAverage();
  const totalEndpoints = SCENARIOS.reduce((a, b) => a + b, 0);
  const receiver = await Receiver.start(totalEndpoints);
  const service = new NotificationService({ concurrency: CONCURRENCY, perSubscription: PER_SUBSCRIPTION, databaseUrl: flags['database-url'], profileDir: PROFILE_DIR });
  try {
    await service.start();
    const synchronousCommit = (await service.db.query('SHOW synchronous_commit')).rows[0].synchronous_commit as string;

    let endpoint = 0;
    const scenarios: Scenario[] = [];
    for (const subscriptions of SCENARIOS) {
      const customerId = `bench-${subscriptions}-subscriptions`;
      const endpoints = Array.from({ length: subscriptions }, () => endpoint++);
      const subscribed = [];
      for (const e of endpoints) subscribed.push(await service.subscribe(customerId, receiver.url(e)));
      scenarios.push({ subscriptions, customerId, endpoints, subscribed, concurrency: Math.min(CONCURRENCY, subscriptions * PER_SUBSCRIPTION), service: [], baseline: [], pacedPerSecond: 0, paced: [], sample: null });
    }

    // Warm-up: connections, JIT, the consumer's fetch sessions; and a delivery of each scenario, whose
    // body the baseline copies and whose signature an independent library checks; then the baseline's.
    for (const scenario of scenarios) {
      const { receipts } = await throughService(service, receiver, scenario, runTag('w', 0, scenario.subscriptions), WARMUP);
      scenario.sample = receipts.sample;
      const sample = receipts.sample!;
      const secret = scenario.subscribed[scenario.endpoints.indexOf(sample.endpoint)].secret;
      new Webhook(secret).verify(sample.body, sample.headers); // throws if the service's signature does not verify
      // The baseline warms up too: after a few hundred requests its first measured loop still ran at a
      // third to a half of its later speed (JIT), and a measured loop lasts only a fraction of a second.
      await throughBaseline(receiver, scenario, runTag('b', 0, scenario.subscriptions), Math.max(BASELINE_WARMUP, WARMUP * scenario.subscriptions));
    }

    // The measured window: the profile, the statement timings and the database samples cover it only.
    const profiling = PROFILE_DIR
      ? {
          fromUs: monotonicMs() * 1000,
          sqlBefore: await service.sqlSnapshot(),
          trafficBefore: await tableTraffic(service.db, service.schema),
          serverLoaded: await statementStatsLoaded(service.db),
          serverBefore: null as Map<string, { calls: number; totalMs: number }> | null,
          sampler: new ActivitySampler(service.db, service.applicationName, service.schema),
        }
      : null;
    if (profiling?.serverLoaded) profiling.serverBefore = await serverStatements(service.db, service.schema);
    profiling?.sampler.start();

    for (let run = 1; run <= RUNS; run++) {
      for (const scenario of scenarios) {
        const { figures: measured } = await throughService(service, receiver, scenario, runTag('r', run, scenario.subscriptions), EVENTS);
        scenario.service.push(measured);
        scenario.baseline.push(await throughBaseline(receiver, scenario, runTag('b', run, scenario.subscriptions), EVENTS * scenario.subscriptions));
      }
    }
    // Then a load the service keeps up with: events at half the median burst rate, for the latency of
    // the pipeline itself rather than of the queue a burst builds.
    for (const scenario of scenarios) scenario.pacedPerSecond = median(scenario.service.map((r) => r.perSecond)) / scenario.subscriptions / 2;
    for (let run = 1; PACED_SECONDS > 0 && run <= RUNS; run++) {
      for (const scenario of scenarios) {
        const events = Math.max(1, Math.round(scenario.pacedPerSecond * PACED_SECONDS));
        scenario.paced.push(await pacedThroughService(service, receiver, scenario, runTag('p', run, scenario.subscriptions), events, scenario.pacedPerSecond));
      }
    }

    const outcomes = await service.outcomes();
    let profiled: Profiled | null = null;
    if (profiling) {
      const activity = await profiling.sampler.stop();
      const toUs = monotonicMs() * 1000;
      const sqlAfter = await service.sqlSnapshot();
      const traffic = trafficBetween(profiling.trafficBefore, await tableTraffic(service.db, service.schema));
      const libraries = (await service.db.query(`SELECT current_setting('shared_preload_libraries') AS l`)).rows[0].l as string;
      const server = profiling.serverBefore
        ? statementsBetween(profiling.serverBefore, await serverStatements(service.db, service.schema))
        : `not collected: pg_stat_statements is not in shared_preload_libraries ('${libraries}') of this server, and loading it means restarting the server`;
      const before = JSON.parse(readFileSync(profiling.sqlBefore, 'utf8')) as TimingSnapshot;
      const after = JSON.parse(readFileSync(sqlAfter, 'utf8')) as TimingSnapshot;
      const statements = after.statements
        .map((a) => {
          const b = before.statements.find((s) => s.statement === a.statement);
          return { statement: a.statement, calls: a.calls - (b?.calls ?? 0), totalMs: a.totalMs - (b?.totalMs ?? 0), maxMs: a.maxMs };
        })
        .filter((s) => s.calls > 0)
        .sort((x, y) => y.totalMs - x.totalMs);
      const deliveries = measuredDeliveries;
      await service.stop(); // the CPU profile is written as the process exits
      const profileFile = readdirSync(PROFILE_DIR!).find((f) => f.endsWith('.cpuprofile'));
      profiled = { deliveries, cpu: profileFile ? summarizeProfile(path.join(PROFILE_DIR!, profileFile), profiling.fromUs, toUs) : null, statements, activity, traffic, server };
    }

    await service.stop();
    receiver.stop();
    report({ synchronousCommit, scenarios, outcomes, loadAtStart, seconds: (Date.now() - startedAt) / 1000, bodyBytes: scenarios[0].sample!.body.length });
    if (profiled) reportProfile(profiled);
  } catch (error) {
    await service.stop().catch(() => undefined);
    receiver.stop();
    throw error;
  }
}

function report({ synchronousCommit, scenarios, outcomes, loadAtStart, seconds, bodyBytes }: { synchronousCommit: string; scenarios: readonly Scenario[]; outcomes: { deliveries: number; retried: number; notSucceeded: number }; loadAtStart: string; seconds: number; bodyBytes: number }) {
  const tracing = process.env.OTEL_SDK_DISABLED === 'true' ? 'off (OTEL_SDK_DISABLED)' : 'on, to Jaeger (as deployed)';
  const ms = (n: number) => `${fmt(n, n < 10 ? 2 : 0)} ms`;
  const med = <T>(rows: readonly T[], pick: (r: T) => number) => median(rows.map(pick));
  const rounds = (rows: readonly Figures[]) => rows.map((r) => fmt(r.perSecond)).join(', ');
  console.log(`\nnotification benchmark: ${fmt(EVENTS)} ExecutionCompleted events per run, fanned out to ${SCENARIOS.join(' and to ')} subscription(s); medians of ${RUNS} runs after a warm-up of ${WARMUP}`);
  console.log(`  machine: ${machine()}; load average (1/5/15 min) ${loadAtStart} at the start, ${loadAverage()} at the end; ${fmt(seconds)} s in all`);
  console.log(`  service: DELIVERY_CONCURRENCY ${CONCURRENCY}, DELIVERY_CONCURRENCY_PER_SUBSCRIPTION ${PER_SUBSCRIPTION}, PostgreSQL synchronous_commit = ${synchronousCommit}, tracing ${tracing}${PROFILE_DIR ? '; PROFILED (--cpu-prof and statement timing slow it: quote a run without --profile)' : ''}`);
  console.log(`  receiver: node:http in a child process, one port per subscription, 204 as soon as the body is in; bodies of ${bodyBytes} bytes`);
  console.log('  baseline: a bare undici request() loop from the bench to the same endpoints, keep-alive Agent, HMAC-SHA256 signing (Standard Webhooks headers) included,');
  console.log("            same body size, at the concurrency the service may use for those subscriptions (min(DELIVERY_CONCURRENCY, subscriptions x per-subscription))");
  console.log('  latency: service = event publish -> receipt: in a burst all events are published at once, so it includes their wait in the queue; paced,');
  console.log('           at half the burst rate, it is the pipeline itself. Baseline = request sent -> receipt, and from start = first request sent -> receipt,');
  console.log("           the baseline's own burst latency, the one comparable to the service's burst");
  for (const s of scenarios) {
    const service = { perSecond: med(s.service, (r) => r.perSecond), p50: med(s.service, (r) => r.p50), p99: med(s.service, (r) => r.p99), cpu: med(s.service, (r) => r.cpuMsPerDelivery) };
    const baseline = { perSecond: med(s.baseline, (r) => r.perSecond), p50: med(s.baseline, (r) => r.p50), p99: med(s.baseline, (r) => r.p99), startP50: med(s.baseline, (r) => r.fromStartP50), startP99: med(s.baseline, (r) => r.fromStartP99) };
    const duplicates = [...s.service, ...s.baseline].reduce((n, r) => n + r.duplicates, 0);
    console.log(`\n  ${s.subscriptions} subscription(s): ${fmt(EVENTS * s.subscriptions)} deliveries per run${s.concurrency === CONCURRENCY ? ` (concurrency ${s.concurrency} = DELIVERY_CONCURRENCY)` : ` (concurrency ${s.concurrency}: the per-subscription limit caps it below DELIVERY_CONCURRENCY ${CONCURRENCY})`}`);
    console.log(`    service    ${fmt(service.perSecond).padStart(7)} deliveries/s   event->delivered p50 ${ms(service.p50).padStart(9)}  p99 ${ms(service.p99).padStart(9)}   service CPU ${fmt(service.cpu, 2)} ms/delivery   (runs ${rounds(s.service)})`);
    console.log(`    baseline   ${fmt(baseline.perSecond).padStart(7)} requests/s     sent->received   p50 ${ms(baseline.p50).padStart(9)}  p99 ${ms(baseline.p99).padStart(9)}   from start p50 ${ms(baseline.startP50)}  p99 ${ms(baseline.startP99)}   c=${s.concurrency}   (runs ${rounds(s.baseline)})`);
    if (s.paced.length > 0) {
      const paced = { p50: med(s.paced, (r) => r.p50), p99: med(s.paced, (r) => r.p99) };
      console.log(`    service, paced at half that (${fmt(s.pacedPerSecond, 1)} events/s, ${fmt(s.pacedPerSecond * s.subscriptions, 1)} deliveries/s for ${fmt(PACED_SECONDS)} s): event->delivered p50 ${ms(paced.p50)}  p99 ${ms(paced.p99)}   (p50 of the runs ${s.paced.map((r) => ms(r.p50)).join(', ')})`);
    }
    console.log(`    service / baseline: throughput ${fmt(service.perSecond / baseline.perSecond, 3)}; burst latency p50 ${fmt(service.p50 / baseline.startP50, 1)}x, p99 ${fmt(service.p99 / baseline.startP99, 1)}x${duplicates > 0 ? `; ${duplicates} duplicate request(s) received` : ''}`);
  }
  console.log(`\n  ${fmt(outcomes.deliveries)} deliveries in all (warm-up included): ${outcomes.retried} took more than one attempt, ${outcomes.notSucceeded} did not succeed; signatures checked with the standardwebhooks package`);
}

function reportProfile(p: Profiled) {
  const perDelivery = (ms: number) => `${fmt((ms * 1000) / p.deliveries, 0)} µs/delivery`;
  console.log(`\nprofile of the notification service over the measured runs (${fmt(p.deliveries)} deliveries, bursts and paced; the baselines ran in between, the service idle), files in ${PROFILE_DIR}`);
  if (p.cpu) {
    console.log(`  CPU: ${fmt(p.cpu.busyMs / 1000, 1)} s busy of ${fmt(p.cpu.windowMs / 1000, 1)} s sampled (${perDelivery(p.cpu.busyMs)}); shares are of the busy time`);
    console.log('  self time by area:');
    for (const s of p.cpu.selfByArea) console.log(`    ${fmt(s.share * 100, 1).padStart(5)}%  ${fmt(s.ms).padStart(7)} ms  ${s.name}`);
    console.log('  self time by function:');
    for (const s of p.cpu.selfByFunction) console.log(`    ${fmt(s.share * 100, 1).padStart(5)}%  ${fmt(s.ms).padStart(7)} ms  ${s.name}`);
    console.log("  inclusive time of the project's functions (with what they call):");
    for (const s of p.cpu.inclusiveProject) console.log(`    ${fmt(s.share * 100, 1).padStart(5)}%  ${fmt(s.ms).padStart(7)} ms  ${s.name}`);
  } else {
    console.log('  CPU: no profile was written (the service did not exit cleanly?)');
  }
  console.log('  statements, timed by the service (call to result: server, round trip and its own event loop), by total time:');
  console.log(`    ${'calls'.padStart(7)} ${'per deliv.'.padStart(10)} ${'total ms'.padStart(9)} ${'mean ms'.padStart(8)} ${'max ms'.padStart(8)}  statement`);
  for (const s of p.statements.slice(0, 14)) console.log(`    ${fmt(s.calls).padStart(7)} ${fmt(s.calls / p.deliveries, 2).padStart(10)} ${fmt(s.totalMs).padStart(9)} ${fmt(s.totalMs / s.calls, 2).padStart(8)} ${fmt(s.maxMs, 1).padStart(8)}  ${s.statement.slice(0, 150)}`);
  console.log(`  the service's database connections, sampled ${fmt(p.activity.samples)} times (${fmt(p.activity.connectionSamples)} connection-samples), by state (wait event):`);
  for (const s of p.activity.byState) console.log(`    ${fmt(s.share * 100, 1).padStart(5)}%  ${s.what}`);
  console.log('  ... and those not idle, by statement:');
  for (const s of p.activity.byStatement) console.log(`    ${fmt(s.share * 100, 1).padStart(5)}%  ${s.what}`);
  console.log('  row traffic per delivery (pg_stat_user_tables):');
  for (const t of p.traffic) {
    const per = (n: number) => fmt(n / p.deliveries, 2);
    console.log(`    ${t.table.padEnd(16)} inserted ${per(t.inserted)}  updated ${per(t.updated)} (HOT ${per(t.hotUpdated)})  deleted ${per(t.deleted)}  seq scans ${per(t.seqScans)}  index scans ${per(t.indexScans)}`);
  }
  if (typeof p.server === 'string') console.log(`  pg_stat_statements: ${p.server}`);
  else {
    console.log('  pg_stat_statements (server execution time; BEGIN/COMMIT count every client of this database), by total time:');
    for (const s of p.server) console.log(`    ${fmt(s.calls).padStart(7)} calls ${fmt(s.totalMs).padStart(8)} ms total ${fmt(s.meanMs, 3).padStart(7)} ms mean  ${s.statement.slice(0, 140)}`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
