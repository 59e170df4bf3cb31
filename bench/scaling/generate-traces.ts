// Writes the shipped arrival traces of bench:scaling into bench/scaling/traces/, deterministically
// (the same files on every run): node -r @swc-node/register bench/scaling/generate-traces.ts
//
// Each is a non-homogeneous Poisson process (by thinning) over a rate curve, in tasks per second. The
// pool they are sized for: up to 6 workers × 2 slots at about 2 s a task, 6 tasks/s at 100 %, so
// every peak fits in the partitions' cap with room (≤ 75 % at the peak). The first minutes of each
// trace are warm-up, not measured, so each policy settles at its own size before the load moves.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { exponential, seededUniform, standardNormal, type Uniform } from './random';
import { formatTrace } from './trace';

const MINUTE = 60_000;
/** A day compressed 30×: 24 h into 48 min, one compressed minute (half an hour of the day) a forecaster step. */
export const COMPRESSED_DAY_MS = 48 * MINUTE;

export type RateCurve = (atMs: number) => number;

/** Arrival times of a Poisson process with rate `rate(t)` ≤ `maxRate` on [0, endMs), by thinning. */
export function poissonArrivals(rate: RateCurve, maxRate: number, endMs: number, uniform: Uniform): number[] {
  const arrivals: number[] = [];
  for (let t = exponential(uniform, 1000 / maxRate); t < endMs; t += exponential(uniform, 1000 / maxRate)) {
    const r = rate(t);
    if (r > maxRate) throw new Error(`rate ${r} at ${t} ms is above the thinning bound ${maxRate}`);
    if (uniform() * maxRate < r) arrivals.push(t);
  }
  return arrivals;
}

const logistic = (x: number): number => 1 / (1 + Math.exp(-x));

/** The compressed day's rate at hour `h` (0..24) of a day scaled by `level`: night, a sharp start of office hours, lunch, evening. */
export function dailyRate(h: number, level: number): number {
  const night = 0.4;
  const day = 3.4 * level;
  const up = logistic((h - 8.25) / 0.2); // 07:45 → 08:45: most of it inside one compressed minute
  const lunch = 0.8 * level * Math.exp(-(((h - 12.75) / 0.6) ** 2));
  const evening = logistic((h - 18.5) / 0.5); // down to the evening level
  const late = logistic((h - 22.5) / 0.4); // and to the night
  const daytime = day - lunch;
  const awake = daytime + (1.2 * level - daytime) * evening;
  return night + (awake - night) * up * (1 - late);
}

interface Generated {
  readonly file: string;
  readonly meta: Record<string, string | number>;
  readonly rate: RateCurve;
  readonly maxRate: number;
  readonly endMs: number;
  readonly seed: number;
}

function traces(): Generated[] {
  const step: Generated = {
    file: 'step-2x.csv',
    meta: {
      name: 'step-2x',
      description: '2.4/s (80 % of 3 workers, HPA\'s target), then 4.8/s from minute 10 (a 2x step); warm-up 5 min',
      start_ms: 0,
      end_ms: 20 * MINUTE,
      measure_from_ms: 5 * MINUTE,
      step_at_ms: 10 * MINUTE,
      step_rate_per_sec: 4.8,
      initial_replicas: 3,
    },
    // From a pool at HPA's own target (2.4/s × 2 s on 6 slots is 80 %) to twice that (9.6 of 12 slots).
    rate: (t) => (t < 10 * MINUTE ? 2.4 : 4.8),
    maxRate: 4.8,
    endMs: 20 * MINUTE,
    seed: 101,
  };
  const ramp: Generated = {
    file: 'ramp.csv',
    meta: {
      name: 'ramp',
      description: '1/s, up to 4.5/s over 10 min, held 5 min, down to 1/s over 5 min; warm-up 5 min',
      start_ms: 0,
      end_ms: 30 * MINUTE,
      measure_from_ms: 5 * MINUTE,
      initial_replicas: 2,
    },
    rate: (t) => {
      const m = t / MINUTE;
      if (m < 5) return 1;
      if (m < 15) return 1 + (3.5 * (m - 5)) / 10;
      if (m < 20) return 4.5;
      if (m < 25) return 4.5 - (3.5 * (m - 20)) / 5;
      return 1;
    },
    maxRate: 4.5,
    endMs: 30 * MINUTE,
    seed: 202,
  };
  const spikes = [
    { at: 10, seconds: 45 },
    { at: 20, seconds: 90 },
    { at: 30, seconds: 180 },
  ];
  const spike: Generated = {
    file: 'spike.csv',
    meta: {
      name: 'spike',
      description: '1.5/s with three 3x spikes to 4.5/s (45 s, 90 s, 180 s) at minutes 10, 20, 30; warm-up 5 min',
      start_ms: 0,
      end_ms: 40 * MINUTE,
      measure_from_ms: 5 * MINUTE,
      step_at_ms: spikes.map((s) => s.at * MINUTE).join(' '),
      step_rate_per_sec: spikes.map(() => 4.5).join(' '),
      initial_replicas: 2,
    },
    rate: (t) => (spikes.some((s) => t >= s.at * MINUTE && t < s.at * MINUTE + s.seconds * 1000) ? 4.5 : 1.5),
    maxRate: 4.5,
    endMs: 40 * MINUTE,
    seed: 303,
  };
  // Five compressed days, each at its own level (±6 %); the first three teach the forecaster.
  const days = 5;
  const levels = (() => {
    const uniform = seededUniform(404);
    return Array.from({ length: days }, () => 1 + 0.06 * standardNormal(uniform));
  })();
  const daily: Generated = {
    file: 'daily.csv',
    meta: {
      name: 'daily',
      description: `${days} days compressed 30x (48 min each): night 0.4/s, office hours ~3.4/s from 08:15 (a compressed minute), lunch dip, evening 1.2/s; measured on days 4-5`,
      start_ms: 0,
      end_ms: days * COMPRESSED_DAY_MS,
      measure_from_ms: 3 * COMPRESSED_DAY_MS,
      season_ms: COMPRESSED_DAY_MS,
      initial_replicas: 1,
    },
    rate: (t) => {
      const day = Math.min(days - 1, Math.floor(t / COMPRESSED_DAY_MS));
      const h = ((t % COMPRESSED_DAY_MS) / COMPRESSED_DAY_MS) * 24;
      return dailyRate(h, levels[day]);
    },
    maxRate: 4.5,
    endMs: days * COMPRESSED_DAY_MS,
    seed: 505,
  };
  return [step, ramp, spike, daily];
}

function main(): void {
  const dir = path.join(__dirname, 'traces');
  mkdirSync(dir, { recursive: true });
  for (const t of traces()) {
    const arrivalsMs = poissonArrivals(t.rate, t.maxRate, t.endMs, seededUniform(t.seed));
    writeFileSync(path.join(dir, t.file), formatTrace({ meta: { ...t.meta, generated_by: 'bench/scaling/generate-traces.ts', tasks: arrivalsMs.length }, arrivalsMs }));
    console.log(`${t.file}: ${arrivalsMs.length} arrivals over ${t.endMs / MINUTE} min`);
  }
}

if (require.main === module) main();
