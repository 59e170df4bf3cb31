import type { PoolMetricsReported } from '@flotilla/contracts';
import type { Decision } from '../../services/scaler/src/decisions/domain/decision';
import { evaluate, type EvaluationInput } from '../../services/scaler/src/decisions/domain/evaluate';
import { initialHistory } from '../../services/scaler/src/decisions/domain/scaling-history';
import { createArrivalForecaster } from '../../services/scaler/src/forecasting/domain/arrival-forecaster';
import type { ArrivalForecasterState } from '../../services/scaler/src/forecasting/domain/forecaster-state';
import { createPredictiveAdvisor, type PredictiveAdvice, type PredictiveAdviceRequest } from '../../services/scaler/src/forecasting/domain/predictive-advisor';
import type { PoolSnapshot } from '../../services/scaler/src/decisions/domain/pool-snapshot';
import { measure, type Figures } from './figures';
import { prototypeDecision, prototypeInput, type ComparedPolicy } from './policies';
import { SimulatedPool, type DrainModel, type QueueModel } from './pool-simulation';
import { snapshotOf } from './pool-view';
import { logNormal, seededUniform, streamSeed, triangular, triangularModeForMedian } from './random';
import type { Trace } from './trace';

/** The measured start-up time of a worker: a triangular distribution through min, median and max. */
export interface StartupTime {
  readonly minMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
}

/** Agent-pool replicas e2e on this platform: time to ready 2.6–7.7 s, median about 5.9 s. */
export const MEASURED_STARTUP: StartupTime = { minMs: 2_600, medianMs: 5_900, maxMs: 7_700 };

export interface ReplayOptions {
  readonly seed: number;
  readonly slotsPerWorker: number;
  readonly sloWaitMs: number;
  readonly startup: StartupTime;
  /** Service times when the trace has no size column: log-normal with this mean and σ of its log. */
  readonly serviceMeanMs: number;
  readonly serviceSigma: number;
  readonly reportIntervalMs: number;
  readonly partitions: number;
  /** The pool's queue (pool-simulation.ts): 'partitioned' (default, the platform) or 'shared'. */
  readonly queue?: QueueModel;
  /** Partitioned: how long a rebalance stops fetching (default REBALANCE_PAUSE_MS). */
  readonly rebalancePauseMs?: number;
  /** Partitioned: POOL_QUEUE_PER_SLOT (default 1). */
  readonly queuePerSlot?: number;
  /** Partitioned: 'hold' (default, the platform) or 'release'. */
  readonly drain?: DrainModel;
  /** Keep every evaluation's input, for the evaluate() micro-benchmark. */
  readonly keepInputs?: boolean;
}

export interface RecordedEvaluation {
  /** What evaluate() got (with the forecast's arrival rate when it was used). */
  readonly input: EvaluationInput;
  /** The snapshot as seen, before any forecast. */
  readonly observed: PoolSnapshot;
  /** The advisor's request, for the predictive policy. */
  readonly advice: PredictiveAdviceRequest | null;
}

export interface ReplayResult {
  readonly figures: Figures;
  /** At how many evaluations the forecast raised the arrival rate sized for, and why it was not used otherwise (predictive only). */
  readonly forecastUse: { readonly raised: number; readonly reactiveReasons: ReadonlyMap<string, number> } | null;
  readonly inputs: readonly RecordedEvaluation[];
}

/** After the trace ends, the replay runs on until every task has finished, for at most this long. */
const DRAIN_LIMIT_MS = 30 * 60_000;
/** Reports older than this leave the buffer a scrape window is taken from. */
const RECENT_REPORTS_MS = 60_000;

/** Service times of the trace's tasks: its size column, or drawn (the same draws for every policy of a seed). */
export function serviceTimes(trace: Trace, options: Pick<ReplayOptions, 'seed' | 'serviceMeanMs' | 'serviceSigma'>): Float64Array {
  const uniform = seededUniform(streamSeed(options.seed, 1));
  return Float64Array.from(trace.arrivalsMs, (_, i) => {
    const drawn = logNormal(uniform, options.serviceMeanMs, options.serviceSigma);
    const size = trace.sizesMs?.[i];
    return size !== undefined && Number.isFinite(size) ? size : drawn;
  });
}

/** Start-up times of the 1st, 2nd, … worker asked for: the same sequence for every policy of a seed. */
export function startupTimes(startup: StartupTime, seed: number): (n: number) => number {
  const uniform = seededUniform(streamSeed(seed, 2));
  const mode = triangularModeForMedian(startup.minMs, startup.medianMs, startup.maxMs);
  const drawn: number[] = [];
  return (n) => {
    while (drawn.length <= n) drawn.push(triangular(uniform, startup.minMs, mode, startup.maxMs));
    return drawn[n];
  };
}

/**
 * Each task's partition: producers key a dispatch by its execution id, and the key's hash spreads
 * them uniformly over the partitions (the same draws for every policy of a seed).
 */
export function taskPartitions(tasks: number, partitions: number, seed: number): Uint8Array {
  if (partitions > 256) throw new RangeError('at most 256 partitions');
  const uniform = seededUniform(streamSeed(seed, 3));
  return Uint8Array.from({ length: tasks }, () => Math.floor(uniform() * partitions));
}

/**
 * The sort key of each worker's member id. kafkajs's id is the client id (the same for every worker)
 * and a random UUID, and its RoundRobinAssigner sorts the ids: the order of the members, hence who
 * owns two partitions of six among four workers, is random. The same keys for every policy of a seed.
 */
export function memberKeys(seed: number): (worker: number) => number {
  const uniform = seededUniform(streamSeed(seed, 4));
  const drawn: number[] = [];
  return (n) => {
    while (drawn.length <= n) drawn.push(uniform());
    return drawn[n];
  };
}

/** Workers at time zero: the trace's, else enough for its first minute at 70 % utilization. */
export function initialWorkers(trace: Trace, serviceMs: Float64Array, slotsPerWorker: number, maxReplicas: number): number {
  if (trace.initialReplicas !== null) return trace.initialReplicas;
  let n = 0;
  let work = 0;
  while (n < trace.arrivalsMs.length && trace.arrivalsMs[n] < 60_000) work += serviceMs[n++];
  const busySlots = work / Math.min(60_000, Math.max(trace.endMs, 1));
  return Math.min(maxReplicas, Math.max(1, Math.ceil(busySlots / 0.7 / slotsPerWorker)));
}

/**
 * The snapshot the scaler evaluates when the forecast is used (scaling-pool.ts, evaluatePool): the
 * arrival rate raised to the one to provision for, never lowered; otherwise the snapshot as seen.
 */
export function withForecast(snapshot: PoolSnapshot, advice: PredictiveAdvice): PoolSnapshot {
  if (advice.source !== 'forecast') return snapshot;
  const predicted = advice.provisionForRatePerSec;
  return snapshot.arrivalRatePerSec === null || predicted > snapshot.arrivalRatePerSec ? { ...snapshot, arrivalRatePerSec: predicted } : snapshot;
}

/** Replays `trace` against a pool scaled by `compared`: one discrete-event run, deterministic for the seed. */
export function replay(trace: Trace, compared: ComparedPolicy, options: ReplayOptions, serviceMs = serviceTimes(trace, options)): ReplayResult {
  const { policy, view, evaluateEveryMs, activationPollMs } = compared;
  const initial = initialWorkers(trace, serviceMs, options.slotsPerWorker, policy.maxReplicas);
  const pool = new SimulatedPool({
    slotsPerWorker: options.slotsPerWorker,
    reportIntervalMs: options.reportIntervalMs,
    partitions: options.partitions,
    arrivalsMs: trace.arrivalsMs,
    serviceMs,
    startupMs: startupTimes(options.startup, options.seed),
    initialWorkers: initial,
    queue: options.queue ?? 'partitioned',
    partitionOf: taskPartitions(trace.arrivalsMs.length, options.partitions, options.seed),
    memberKey: memberKeys(options.seed),
    rebalancePauseMs: options.rebalancePauseMs,
    queuePerSlot: options.queuePerSlot,
    drain: options.drain,
  });

  const forecasting = compared.predictive
    ? (() => {
        const forecaster = createArrivalForecaster(compared.predictive.forecaster);
        return { settings: compared.predictive, forecaster, advisor: createPredictiveAdvisor(forecaster, compared.predictive.advisor) };
      })()
    : null;
  let forecasterState: ArrivalForecasterState | null = forecasting?.forecaster.initialState ?? null;
  let raised = 0;
  const reactiveReasons = new Map<string, number>();

  let history = initialHistory(initial, 0);
  let reportCursor = 0;
  let recent: PoolMetricsReported[] = [];
  let scaleActions = 0;
  const inputs: RecordedEvaluation[] = [];

  for (let now = evaluateEveryMs; ; now += evaluateEveryMs) {
    pool.advanceTo(now);
    if (now > trace.endMs && (pool.done || now > trace.endMs + DRAIN_LIMIT_MS)) break;

    const fresh = pool.reportsSince(reportCursor);
    reportCursor = fresh.next;
    recent = [...recent.filter((r) => r.windowEndedAt > now - RECENT_REPORTS_MS), ...fresh.reports];
    if (forecasting && forecasterState) {
      for (const report of fresh.reports) forecasterState = forecasting.forecaster.recordPoolMetrics(forecasterState, report);
      forecasterState = forecasting.forecaster.closeElapsedSteps(forecasterState, now);
    }

    const current = pool.replicas;
    const baseInput = (snapshot: PoolSnapshot): EvaluationInput => ({ policy, snapshot, history, currentReplicas: current, override: null, paused: false, now });
    // KEDA: with no replica the HPA is inactive; only the polling loop wakes the pool.
    if (current === 0 && activationPollMs !== null && now % activationPollMs !== 0) continue;

    // The scaler knows the dispatch topic's partitions (the topic catalogue); so it does here when the pool is partitioned.
    const partitions = (options.queue ?? 'partitioned') === 'partitioned' ? options.partitions : null;
    const observed = snapshotOf(view, { now, slotsPerWorker: options.slotsPerWorker, partitions, latest: pool.latestReports(), recent, uncommitted: pool.uncommitted });
    let snapshot = observed;
    let adviceRequest: PredictiveAdviceRequest | null = null;
    if (forecasting && forecasterState) {
      adviceRequest = {
        mode: policy.predictive.mode,
        now,
        horizonMs: forecasting.settings.horizonMs,
        timeToReadyMs: forecasting.settings.timeToReadyMs,
        observedArrivalRatePerSec: snapshot.arrivalRatePerSec ?? 0,
        forecaster: forecasterState,
      };
      const advice = forecasting.advisor.advise(adviceRequest);
      const ahead = withForecast(snapshot, advice);
      if (ahead !== snapshot && now >= trace.measureFromMs) raised++;
      if (advice.source === 'reactive' && now >= trace.measureFromMs) {
        const reason = advice.reason.replace(/\d+/g, 'n');
        reactiveReasons.set(reason, (reactiveReasons.get(reason) ?? 0) + 1);
      }
      snapshot = ahead;
    }
    const prototype = compared.prototype;
    const input: EvaluationInput = prototype ? prototypeInput(baseInput(snapshot), prototype, options.partitions) : baseInput(snapshot);
    const decision: Decision = prototype ? prototypeDecision(evaluate(input), input, prototype, options.partitions) : evaluate(input);
    if (options.keepInputs) inputs.push({ input, observed, advice: adviceRequest });

    history = decision.history;
    if (decision.desiredReplicas !== current) {
      pool.scaleTo(decision.desiredReplicas, now);
      if (now >= trace.measureFromMs && now <= trace.endMs) scaleActions++;
    }
  }

  return {
    figures: measure({ trace, serviceMs, startAt: pool.startAt, timeline: pool.timeline, slotsPerWorker: options.slotsPerWorker, sloWaitMs: options.sloWaitMs, scaleActions, endedAt: pool.time }),
    forecastUse: forecasting ? { raised, reactiveReasons } : null,
    inputs,
  };
}
