// npm run bench:scaling-live — replays a slice of an arrival trace in real time through the real
// platform (agent pool provisioning worker processes, optimizer, scaler acting through its scale
// sagas, all over Kafka), measures it as the simulation measures itself (scaling/figures.ts), then
// replays the same slice in the simulation (scaling/replay.ts) with the same policy, and prints the two
// side by side: how far the simulation is from the platform it models.
//
// Needs the stack (deploy/native/stack up; eval "$(deploy/native/stack env)"). Takes the slice's
// length plus about two minutes. No speed-up: the rates are the trace's.
//
//   --trace path.csv       the trace (default scaling/traces/step-2x.csv)
//   --from-ms N            the slice's start on the trace's clock (default 480000: minute 8)
//   --to-ms N              the slice's end (default 960000: minute 16; the 2x step at minute 10 is inside)
//   --warmup-ms N          the slice's first part, not measured (default 60000)
//   --policy KEY           queue_aware (default) or reactive: the row of scaling/policies.ts to run
//   --seeds N              seeds of the simulation (default 5)
//   --seed N               the seed whose drawn service times the live tasks ask for (default 1; a size column wins)
//   --interval-ms N        SCALER_INTERVAL_MS and the simulation's evaluation period (default 15000)
//   --drain-timeout-ms N   after the slice, how long to wait for its tasks to finish (default 180000)
//   --slo-wait-ms N        the SLO's queue-wait target (default 5000)
//   --service-ms N         mean service time drawn when the trace has no size column (default 2000)
//   --slots N              slots per worker (default 2);  --max-replicas N  (default 6: the partitions)
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { measure, type Figures } from './scaling/figures';
import { comparisonTable, mean, pct, spread } from './scaling/live/compare';
import { dispatchInRealTime } from './scaling/live/dispatcher';
import { MachineLoad, type LoadSummary } from './scaling/live/machine-load';
import { AGENT_TYPE, LivePlatform } from './scaling/live/platform';
import { idleWhileWaiting, ofType, sagaRecords, taskRecords, timelineOf, valueAt, workerLives, type Dispatched, type SagaRecord, type TailedEvent, type WorkerLife } from './scaling/live/record';
import { simulate } from './scaling/live/simulate';
import { sliceOf, sliceTrace, type TraceSlice } from './scaling/live/slice';
import { comparedPolicies, FLOTILLA_TUNING, type ComparedPolicy, type PolicyKey } from './scaling/policies';
import { MEASURED_STARTUP, serviceTimes, type ReplayOptions, type StartupTime } from './scaling/replay';
import { parseTrace, type Trace } from './scaling/trace';
import type { PoolSnapshot } from '../services/scaler/src/decisions/domain/pool-snapshot';
import type { PoolMetricsReported, ScalingDecisionRecorded } from '@flotilla/contracts';
import { waitFor } from '@flotilla/testing';
import { ensureStack, fmt } from './support';

const SERVICE_SIGMA = 0.5;
const REPORT_INTERVAL_MS = 5_000;

interface Args {
  readonly trace: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly warmupMs: number;
  readonly policy: PolicyKey;
  readonly seeds: number;
  readonly seed: number;
  readonly intervalMs: number;
  readonly drainTimeoutMs: number;
  readonly sloWaitMs: number;
  readonly serviceMs: number;
  readonly slots: number;
  readonly maxReplicas: number;
}

function parseArgs(argv: readonly string[]): Args {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  const known = ['trace', 'from-ms', 'to-ms', 'warmup-ms', 'policy', 'seeds', 'seed', 'interval-ms', 'drain-timeout-ms', 'slo-wait-ms', 'service-ms', 'slots', 'max-replicas'];
  for (const name of values.keys()) if (!known.includes(name)) throw new Error(`unknown option --${name} (known: ${known.join(', ')}; no --speed: the replay is in real time)`);
  const number = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!(Number.isFinite(n) && n >= min)) throw new Error(`--${name} must be a number >= ${min}, got ${raw}`);
    return n;
  };
  const policy = values.get('policy') ?? 'queue_aware';
  if (policy !== 'queue_aware' && policy !== 'reactive') throw new Error(`--policy must be queue_aware or reactive, got ${policy}`);
  return {
    trace: values.get('trace') ?? path.join(__dirname, 'scaling', 'traces', 'step-2x.csv'),
    fromMs: number('from-ms', 8 * 60_000, 0),
    toMs: number('to-ms', 16 * 60_000, 1),
    warmupMs: number('warmup-ms', 60_000, 0),
    policy,
    seeds: Math.round(number('seeds', 5, 1)),
    seed: Math.round(number('seed', 1, 1)),
    intervalMs: number('interval-ms', 15_000, 100),
    drainTimeoutMs: number('drain-timeout-ms', 180_000, 0),
    sloWaitMs: number('slo-wait-ms', 5_000, 1),
    serviceMs: number('service-ms', 2_000, 1),
    slots: Math.round(number('slots', 2, 1)),
    maxReplicas: Math.round(number('max-replicas', 6, 1)),
  };
}

/** Everything the live run recorded, kept once the platform is stopped. */
interface LiveRecording {
  readonly originMs: number;
  readonly endedAtMs: number;
  readonly dispatched: readonly Dispatched[];
  readonly taskEvents: readonly TailedEvent[];
  readonly poolEvents: readonly TailedEvent[];
  readonly scalingEvents: readonly TailedEvent[];
  readonly metricEvents: readonly TailedEvent[];
  /** The scaler's measured evaluation period, when the slice was aligned to its evaluations. */
  readonly evaluationPeriodMs: number | null;
  /** The host's load while the slice was replayed. */
  readonly load: LoadSummary;
  readonly namespace: string;
  readonly logs: readonly string[];
}

const s = (ms: number, digits = 1) => fmt(ms / 1000, digits);

/** When the scaler last evaluated the pool, and its period, from two evaluations; null (unaligned) if they cannot be read. */
async function evaluationClock(live: LivePlatform, intervalMs: number): Promise<{ lastMs: number; periodMs: number } | null> {
  try {
    const times = await waitFor('two evaluations of the pool by the scaler', async () => {
      const t = await live.evaluationTimes();
      return t.length >= 2 ? t : undefined;
    }, { timeoutMs: 3 * intervalMs + 5_000, intervalMs: 200 });
    return { lastMs: times[times.length - 1], periodMs: times[times.length - 1] - times[times.length - 2] };
  } catch (error) {
    console.log(`live: the scaler's evaluation times could not be read (${(error as Error).message}); the slice is not aligned to them`);
    return null;
  }
}

async function runLive(args: Args, slice: TraceSlice, durationsMs: Float64Array, compared: ComparedPolicy, initialReplicas: number): Promise<LiveRecording> {
  const abort = new AbortController();
  const onSignal = () => {
    console.log('\ninterrupted: stopping the platform');
    abort.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let live: LivePlatform | null = null;
  try {
    const bootAt = Date.now();
    live = await LivePlatform.start({ initialReplicas, maxReplicas: args.maxReplicas, slotsPerWorker: args.slots, evaluateEveryMs: args.intervalMs });
    console.log(`\nlive: namespace ${live.namespace}; services ready in ${s(Date.now() - bootAt)} s (logs: ${live.logs.join(', ')})`);
    await live.initialWorkersReady(initialReplicas);
    await live.setPolicy(compared.policy, initialReplicas);
    console.log(`live: ${initialReplicas} initial workers ready after ${s(Date.now() - bootAt)} s; policy '${compared.label}' set over PUT /v1/pools/${AGENT_TYPE}/policy (the scaler keeps it field for field)`);

    const trace = slice.trace;
    // The simulation evaluates at multiples of the interval on the slice's clock; the scaler at its own
    // phase. Time zero is set so that the scaler's evaluation falls where the simulation's does at the
    // slice's step (or the start of the measured window): otherwise a phase of up to one interval adds
    // to the live time to capacity and not to the simulated one.
    const clock = await evaluationClock(live, args.intervalMs);
    const anchorMs = Math.floor((trace.steps[0]?.atMs ?? trace.measureFromMs) / args.intervalMs) * args.intervalMs;
    let originMs = Date.now() + 500;
    if (clock) {
      const n = Math.ceil((originMs + anchorMs - clock.lastMs) / clock.periodMs);
      originMs = clock.lastMs + n * clock.periodMs - anchorMs;
      console.log(`live: the scaler evaluates every ${fmt(clock.periodMs, 0)} ms (measured); time zero set so that it evaluates at ${s(anchorMs, 0)} s of the slice, as the simulation does`);
    }
    const tasks = live.taskEvents;
    const started = () => tasks.events.filter((e) => e.type === 'flotilla.task.TaskStarted').length;
    const finished = () => tasks.events.filter((e) => e.type === 'flotilla.task.TaskCompleted' || e.type === 'flotilla.task.TaskFailed').length;
    const readyNow = () => {
      const last = [...live!.poolEvents.events].reverse().find((e) => 'readyReplicas' in (e.payload as object));
      const p = last?.payload as { readyReplicas: number; replicas: number } | undefined;
      return p ? `${p.readyReplicas} ready of ${p.replicas} desired` : '?';
    };
    let lastProgress = originMs;
    const progress = (sent: number) => {
      if (Date.now() - lastProgress < 60_000) return;
      lastProgress = Date.now();
      console.log(`  t=${s(Date.now() - originMs, 0).padStart(4)} s  dispatched ${sent}, started ${started()}, finished ${finished()}; workers ${readyNow()}; load average ${loadavg()[0].toFixed(1)}`);
    };
    console.log(`live: replaying ${trace.arrivalsMs.length} tasks over ${s(trace.endMs, 0)} s in real time from ${new Date(originMs).toISOString()}`);
    const machine = new MachineLoad();
    machine.start();
    const dispatched = await dispatchInRealTime(live.driver, { agentType: AGENT_TYPE, arrivalsMs: trace.arrivalsMs, durationsMs }, originMs, abort.signal, progress);
    const sliceEnd = originMs + trace.endMs;
    while (Date.now() < sliceEnd) {
      await sleep(Math.min(1_000, sliceEnd - Date.now()), undefined, { signal: abort.signal });
      progress(dispatched.length);
    }
    const load = machine.stop();
    const ids = new Set(dispatched.map((d) => d.executionId));
    const drainUntil = Date.now() + args.drainTimeoutMs;
    const done = () => new Set(tasks.events.filter((e) => (e.type === 'flotilla.task.TaskCompleted' || e.type === 'flotilla.task.TaskFailed') && ids.has((e.payload as { executionId: string }).executionId)).map((e) => (e.payload as { executionId: string }).executionId)).size;
    while (done() < ids.size && Date.now() < drainUntil) await sleep(500, undefined, { signal: abort.signal });
    const endedAtMs = Date.now();
    console.log(`live: slice over; ${done()} of ${ids.size} tasks finished ${s(endedAtMs - sliceEnd)} s after its end; workers ${readyNow()}`);
    await live.caughtUp();
    return {
      originMs,
      endedAtMs,
      dispatched,
      taskEvents: [...live.taskEvents.events],
      poolEvents: [...live.poolEvents.events],
      scalingEvents: [...live.scaling.events],
      metricEvents: [...live.poolMetrics.events],
      evaluationPeriodMs: clock?.periodMs ?? null,
      load,
      namespace: live.namespace,
      logs: live.logs,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (live) {
      const stopping = Date.now();
      await live.stop();
      console.log(`live: platform stopped (${s(Date.now() - stopping)} s)`);
    }
  }
}

/** The live run's figures, by the simulation's own `measure`, on the slice's clock. */
function liveFigures(args: Args, slice: TraceSlice, rec: LiveRecording, serviceMs: Float64Array, lives: readonly WorkerLife[], sagas: readonly SagaRecord[]): { figures: Figures; trace: Trace; startAt: Float64Array } {
  const origin = rec.originMs;
  const tasks = taskRecords(rec.dispatched, rec.taskEvents);
  // The arrivals are when the dispatches went out (a few ms after they were due): queue wait is
  // TaskStarted.startedAt − TaskDispatched.dispatchedAt.
  const trace: Trace = { ...slice.trace, arrivalsMs: Float64Array.from(rec.dispatched, (d) => d.dispatchedAt - origin) };
  const startAt = Float64Array.from(tasks, (t) => t.startedAt - origin);
  const { measureFromMs, endMs } = slice.trace;
  const scaleActions = sagas.filter((g) => g.outcome === 'completed' && g.decidedAt - origin >= measureFromMs && g.decidedAt - origin <= endMs).length;
  const figures = measure({ trace, serviceMs, startAt, timeline: timelineOf(lives, origin), slotsPerWorker: args.slots, sloWaitMs: args.sloWaitMs, scaleActions, endedAt: rec.endedAtMs - origin });
  return { figures, trace, startAt };
}

function startupOf(lives: readonly WorkerLife[]): { startup: StartupTime; from: string } | null {
  const ready = lives.filter((w) => w.timeToReadyMs !== null);
  const scaled = ready.filter((w) => !w.requestId?.startsWith('initial:'));
  const sample = scaled.length > 0 ? scaled : ready;
  if (sample.length === 0) return null;
  const times = sample.map((w) => w.timeToReadyMs!).sort((a, b) => a - b);
  return { startup: { minMs: times[0], medianMs: pct(times, 50), maxMs: times[times.length - 1] }, from: scaled.length > 0 ? `the ${scaled.length} workers the scale sagas started` : `the ${ready.length} initial workers (no saga started one)` };
}

const snapshotText = (p: Partial<PoolSnapshot>): string => {
  const n = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? '-' : fmt(v, digits));
  return `backlog ${n(p.backlog, 0)}, in flight ${n(p.inFlight, 0)}, util ${n(p.utilization, 2)}, arrivals ${n(p.arrivalRatePerSec, 2)}/s, service ${n(p.meanServiceTimeMs, 0)} ms, reporting ${n(p.reportingWorkers, 0)}`;
};

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const whole = parseTrace(readFileSync(args.trace, 'utf8'), path.basename(args.trace, '.csv'));
  const slice = sliceTrace(whole, args.fromMs, args.toMs, args.warmupMs);
  const trace = slice.trace;
  const initialReplicas = trace.initialReplicas ?? 1;
  // The live tasks' durations: the size column, else drawn as the simulation draws them (same stream, same seed).
  const drawn = (seed: number) => sliceOf(serviceTimes(whole, { seed, serviceMeanMs: args.serviceMs, serviceSigma: SERVICE_SIGMA }), slice);
  const requested = Float64Array.from(drawn(args.seed), (d) => Math.max(1, Math.round(d)));
  const policyFor = (timeToReadyMs: number): ComparedPolicy =>
    comparedPolicies({ sloWaitMs: args.sloWaitMs, maxReplicas: args.maxReplicas, defaultServiceTimeMs: args.serviceMs, timeToReadyMs, seasonMs: trace.seasonMs }, FLOTILLA_TUNING).find((c) => c.key === args.policy)!;
  const compared = policyFor(MEASURED_STARTUP.medianMs);

  console.log(`\nscaling benchmark, live: ${whole.name} from ${s(args.fromMs, 0)} s to ${s(args.toMs, 0)} s of its clock in real time, through the real platform, against the simulation of the same slice`);
  console.log(`  ${trace.arrivalsMs.length} tasks; measured from ${s(trace.measureFromMs, 0)} s of the slice to its end (${s(trace.endMs, 0)} s)${trace.steps.length > 0 ? `; step to ${trace.steps.map((st) => `${st.ratePerSec}/s at ${s(st.atMs, 0)} s`).join(', ')}` : '; no step inside'}`);
  console.log(`  task durations (duration_ms of the synthetic executor): ${trace.sizesMs ? 'the size column' : `drawn as the simulation draws them (log-normal mean ${args.serviceMs} ms, sigma ${SERVICE_SIGMA}, seed ${args.seed})`}: mean ${fmt(mean([...requested]), 0)} ms`);
  console.log(`  pool ${AGENT_TYPE}: ${initialReplicas} initial workers (the trace's initial_replicas), up to ${args.maxReplicas} x ${args.slots} slots; scaler every ${s(args.intervalMs, 0)} s; no budget for the pool (the scale saga's requireBudget is false: waived)`);
  console.log(`  policy ${compared.label}: ${compared.rationale}`);

  await ensureStack();
  const rec = await runLive(args, slice, requested, compared, initialReplicas);

  // ---- what the live run measured
  const origin = rec.originMs;
  const lives = workerLives(rec.poolEvents, AGENT_TYPE);
  const sagas = sagaRecords(rec.scalingEvents);
  const tasks = taskRecords(rec.dispatched, rec.taskEvents);
  const runMs = tasks.map((t) => t.finishedAt - t.startedAt);
  const overheads = runMs.flatMap((r, i) => (Number.isFinite(r) ? [r - rec.dispatched[i].durationMs] : []));
  const medianOverhead = overheads.length > 0 ? pct(overheads, 50) : 0;
  // Each task's service time as measured (TaskCompleted.completedAt − TaskStarted.startedAt); a task that did not finish: asked for + the median overhead.
  const measuredService = Float64Array.from(runMs, (r, i) => (Number.isFinite(r) ? r : rec.dispatched[i].durationMs + medianOverhead));
  const live = liveFigures(args, slice, rec, measuredService, lives, sagas);

  // ---- the simulation of the same slice
  const measuredStartup = startupOf(lives);
  const startup = measuredStartup?.startup ?? MEASURED_STARTUP;
  const options: Omit<ReplayOptions, 'seed' | 'keepInputs'> = {
    slotsPerWorker: args.slots,
    sloWaitMs: args.sloWaitMs,
    startup,
    serviceMeanMs: args.serviceMs,
    serviceSigma: SERVICE_SIGMA,
    reportIntervalMs: REPORT_INTERVAL_MS,
    partitions: args.maxReplicas,
  };
  const seeds = Array.from({ length: args.seeds }, (_, i) => i + 1);
  const calibratedPolicy = policyFor(startup.medianMs);
  if (JSON.stringify(calibratedPolicy.policy) !== JSON.stringify(compared.policy)) throw new Error('the calibrated policy differs from the one the live run used');
  const calibrated = simulate(trace, calibratedPolicy, options, seeds, () => measuredService);
  const asPublished = simulate(trace, compared, { ...options, startup: MEASURED_STARTUP }, seeds, drawn);

  console.log(`\ncomparison over the measured window [${s(trace.measureFromMs, 0)} s, ${s(trace.endMs, 0)} s] of the slice, figures by scaling/figures.ts measure():`);
  console.log(`  live: one run of the platform. sim calibrated: replay.ts with this run's measured service time per task and its workers' measured start-up`);
  console.log(
    `  (triangular ${fmt(startup.minMs, 0)}/${fmt(startup.medianMs, 0)}/${fmt(startup.maxMs, 0)} ms from ${measuredStartup?.from ?? 'nothing measured: the bench default'}), seeds 1-${args.seeds}. ` +
      `sim as published: bench:scaling's own assumptions (drawn service times, start-up 2600/5900/7700 ms), seeds 1-${args.seeds}.`,
  );
  const { load } = rec;
  console.log(
    `  host while the slice was replayed: ${load.cores} cores, 1-min load average mean ${fmt(load.loadMean, 1)} (max ${fmt(load.loadMax, 1)}), ` +
      `CPU busy ${load.busyMean === null ? 'unknown' : `${fmt(100 * load.busyMean, 0)} % mean (max ${fmt(100 * load.busyMax!, 0)} %)`} — every process on the host, the stack's and anyone else's included`,
  );
  for (const line of comparisonTable(live.figures, [
    { label: 'sim calibrated', runs: calibrated.runs },
    { label: 'sim as published', runs: asPublished.runs },
  ]))
    console.log(`  ${line}`);

  // ---- the measurements the calibration uses
  console.log(`\nworker start-up (PoolWorkerReady.timeToReadyMs; slice clock):`);
  for (const w of lives) {
    const kind = w.requestId?.startsWith('initial:') ? 'initial ' : w.requestId === null && w.readyAt === null ? 'unknown ' : 'scale-up';
    console.log(
      `  ${w.workerId.padEnd(18)} ${kind} started ${s(w.startedAt - origin).padStart(7)} s${w.startApproximated ? ' (approx.)' : '          '}` +
        ` ready ${w.readyAt === null ? '      -' : s(w.readyAt - origin).padStart(7)} s  time to ready ${w.timeToReadyMs === null ? '-' : fmt(w.timeToReadyMs, 0)} ms` +
        `  ${w.end === 'running' ? 'ran to the end' : `${w.end} at ${s((w.goneAt ?? 0) - origin)} s (stopped taking tasks at ${s((w.leftReadyAt ?? 0) - origin)} s)`}`,
    );
  }
  const scaledUp = lives.filter((w) => w.timeToReadyMs !== null && !w.requestId?.startsWith('initial:')).map((w) => w.timeToReadyMs!);
  const initial = lives.filter((w) => w.timeToReadyMs !== null && w.requestId?.startsWith('initial:')).map((w) => w.timeToReadyMs!);
  console.log(`  scale-up workers: ${spread(scaledUp)}; initial workers (started with the services): ${spread(initial)}; the simulation as published assumes 2600/5900/7700 ms`);

  console.log(`\ntask run time (TaskCompleted.completedAt − TaskStarted.startedAt) against the duration_ms asked for:`);
  console.log(`  asked ${spread([...requested].map(Number))}`);
  console.log(`  ran   ${spread(runMs.filter(Number.isFinite))}`);
  console.log(`  overhead (ran − asked) ${spread(overheads)}`);
  // What a slot is held per task, as the workers' reports count it (busy slot-time / attempts finished): more than the run time by what the attempt does around it (recording its start and outcome).
  const reports = ofType<PoolMetricsReported>(rec.metricEvents, 'PoolMetricsReported').filter((r) => r.agentType === AGENT_TYPE && r.windowStartedAt >= origin && r.windowEndedAt <= rec.endedAtMs);
  const busySlotMs = reports.reduce((sum, r) => sum + r.utilization * r.concurrency * (r.windowEndedAt - r.windowStartedAt), 0);
  const finishedInReports = reports.reduce((sum, r) => sum + (r.completionRatePerSec * Math.max(1, r.windowEndedAt - r.windowStartedAt)) / 1000, 0);
  const ranInReports = tasks.flatMap((t, i) => (t.finishedAt <= rec.endedAtMs && Number.isFinite(runMs[i]) ? [runMs[i]] : []));
  console.log(
    `  slot held per task (workers' reports: busy slot-time / attempts finished, ${reports.length} reports): ${fmt(busySlotMs / Math.max(1, finishedInReports), 0)} ms, ` +
      `against a mean run time of ${fmt(mean(ranInReports), 0)} ms (the simulation's service time is the run time)`,
  );
  const lag = rec.dispatched.map((d) => d.dispatchedAt - d.dueAt);
  const startedTwice = tasks.filter((t) => t.starts > 1).length;
  const failed = tasks.filter((t) => t.failed).length;
  const unfinished = tasks.filter((t) => Number.isNaN(t.finishedAt)).length;
  console.log(`  dispatch: ${rec.dispatched.length} published, lag behind the trace ${spread(lag)}; started more than once ${startedTwice}, failed ${failed}, not finished ${unfinished}`);

  // ---- why they differ: the scale actions, side by side
  const decisions = ofType<ScalingDecisionRecorded>(rec.scalingEvents, 'ScalingDecisionRecorded').filter((d) => d.agentType === AGENT_TYPE);
  console.log(`\nscale actions, live (sagas; slice clock, s):`);
  for (const g of sagas) {
    const at = (t: number | null) => (t === null ? '-' : `+${s(t - g.decidedAt)}`);
    const ready = lives.filter((w) => w.requestId === `${g.sagaId}:scale` && w.readyAt !== null).map((w) => w.readyAt!);
    console.log(
      `  decided ${s(g.decidedAt - origin).padStart(7)}  ${g.direction.padEnd(4)} ${g.fromReplicas} -> ${g.toReplicas}  saga started ${at(g.startedAt)}, replicas accepted ${at(g.acceptedAt)}, ` +
        `workers ready ${ready.length > 0 ? ready.map((r) => at(r)).join(' ') : '-'}, reached ${at(g.reachedAt)}, ${g.outcome} ${at(g.endedAt)}`,
    );
  }
  for (const d of decisions) {
    if (d.direction === 'none') continue;
    const sinceOrigin = d.evaluatedAt - origin;
    const offGrid = sinceOrigin - Math.round(sinceOrigin / args.intervalMs) * args.intervalMs;
    console.log(`    decision at ${s(sinceOrigin).padStart(7)} (${offGrid >= 0 ? '+' : ''}${s(offGrid, 2)} s off the simulation's ${s(args.intervalMs, 0)} s grid): ${d.currentReplicas} -> ${d.desiredReplicas} (${d.mode}${d.sagaId ? '' : ', no saga: coalesced behind the running one'}) saw ${snapshotText(JSON.parse(d.snapshot) as PoolSnapshot)}`);
  }
  console.log(`scale actions, simulation calibrated, seed 1 (a decision applies at once; slice clock, s):`);
  for (const d of calibrated.firstSeedDecisions) {
    console.log(`    decision at ${s(d.atMs).padStart(7)}: ${d.currentReplicas} -> ${d.desiredReplicas} saw ${snapshotText(d.snapshot)}`);
  }

  // ---- what the simulation's pool does not do: one FIFO queue over every ready slot
  const timeline = timelineOf(lives, origin);
  const idle = idleWhileWaiting(
    { arrivals: [...live.trace.arrivalsMs], starts: [...live.startAt], finishes: tasks.map((t) => t.finishedAt - origin), timeline, slotsPerWorker: args.slots },
    trace.measureFromMs,
    trace.endMs,
  );
  const measuredWaits = [...live.trace.arrivalsMs].flatMap((a, i) => (a >= trace.measureFromMs && Number.isFinite(live.startAt[i]) ? [live.startAt[i] - a] : []));
  console.log(`\nlive queue waits in the measured window: ${spread(measuredWaits)}; waits over the SLO: ${measuredWaits.filter((w) => w > args.sloWaitMs).length}`);
  console.log(
    `  time some task waited while a ready slot was free (the partitioned simulation's idle-wait row above): ${s(idle.totalMs)} s in total; longest: ` +
      (idle.longest.length > 0 ? idle.longest.map((x) => `${s(x.ms, 2)} s at ${s(x.at)} s`).join(', ') : 'none'),
  );
  const afterStep = trace.steps[0]?.atMs ?? trace.measureFromMs;
  const byWorker = new Map<string, number[]>();
  tasks.forEach((t, i) => {
    if (t.workerId === null || live.trace.arrivalsMs[i] < afterStep) return;
    byWorker.set(t.workerId, [...(byWorker.get(t.workerId) ?? []), live.startAt[i] - live.trace.arrivalsMs[i]]);
  });
  console.log(`  per worker, tasks that arrived from ${s(afterStep, 0)} s on (its partitions decide its share, as in the partitioned simulation):`);
  for (const w of lives) {
    const waits = byWorker.get(w.workerId);
    if (!waits) continue;
    const readyFrom = Math.max(afterStep, (w.readyAt ?? 0) - origin);
    const readyTo = Math.min(trace.endMs, (w.leftReadyAt ?? Number.POSITIVE_INFINITY) - origin);
    const perSec = readyTo > readyFrom ? waits.length / ((readyTo - readyFrom) / 1000) : Number.NaN;
    console.log(`    ${w.workerId.padEnd(18)} ${String(waits.length).padStart(5)} tasks, ${fmt(perSec, 2)}/s while ready; wait p50 ${fmt(pct(waits, 50), 0)} ms, p95 ${fmt(pct(waits, 95), 0)} ms, max ${fmt(Math.max(...waits), 0)} ms`);
  }
  const at = (t: number) => `${valueAt(timeline, 'ready', t)}/${valueAt(timeline, 'provisioned', t)}`;
  if (trace.steps.length > 0) {
    const step = trace.steps[0].atMs;
    console.log(`  live ready/paid-for workers after the step: ${[0, 15, 30, 45, 60, 90, 120, 180].map((d) => `+${d} s ${at(step + d * 1000)}`).join(', ')}`);
  }
  console.log(`\n  (live namespace ${rec.namespace}; service logs ${rec.logs.join(', ')})`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
