import type { PoolSample } from './over-provisioning';
import type { RightSizingPolicy, UsageSample } from './right-sizing';
import { busySlotsPerHour, clock, DEFAULT_SCHEDULE_HINTS, poolAsItRuns, workersNeeded, type ScheduleHint } from './schedule-hints';

/**
 * When a pool could run smaller on some days of the week: its busy slots per hour of the week (day of
 * week × UTC hour, 168 slots, the week starting Monday 00:00 UTC), each slot sized like the daily
 * hint's hours (p90 across the weeks observed + margin, whole workers). A run of consecutive slots
 * (it may wrap from Sunday into Monday) that needs fewer workers than the pool runs now is a window;
 * the hint is the window that gives back the most worker-hours a week beyond what the daily hint
 * already gives back, so that both can be followed at once and their savings add up. A pool with the
 * same quiet hours every day has nothing weekly to say; a pool quiet at weekends has.
 */
export interface WeeklyScheduleHint {
  readonly agentType: string;
  /** Hour of the week the window starts, 0 = Monday 00:00 UTC … 167 = Sunday 23:00 UTC. */
  readonly fromHourOfWeek: number;
  /** Its length, 1..168; the window may run past Sunday 24:00 into the next week. */
  readonly hours: number;
  readonly currentWorkers: number;
  readonly workersInWindow: number;
  /** Busy slots of the window's busiest hour at p90, before the margin. */
  readonly p90BusySlots: number;
  /** Worker-hours a week it gives back beyond the daily hint. */
  readonly workerHoursPerWeek: number;
  readonly estimatedMonthlySavingMicros: number;
  /** Weeks that had samples in every hour of the window (the fewest of any hour): the hint's evidence. */
  readonly weeksObserved: number;
  /** The window in words: "on Saturday and Sunday 00:00–24:00 UTC", "from Friday 18:00 to Monday 06:00 UTC". */
  readonly window: string;
  /** The daily hint its saving was counted beyond, if any. */
  readonly daily: Pick<ScheduleHint, 'fromHour' | 'toHour' | 'workersInWindow'> | null;
  readonly summary: string;
}

export interface WeeklyScheduleHintPolicy {
  /** Observations of each hour of the week (one a week) needed before it says anything; 2. */
  readonly minWeeks: number;
  /** Shortest window worth a schedule; 3 hours. */
  readonly minHours: number;
  readonly rightSizing: RightSizingPolicy;
}

export const DEFAULT_WEEKLY_SCHEDULE_HINTS: WeeklyScheduleHintPolicy = { minWeeks: 2, minHours: 3, rightSizing: DEFAULT_SCHEDULE_HINTS.rightSizing };

/** 365.25 ÷ 12 ÷ 7 ≈ 4.35 weeks in an average month. */
export const WEEKS_PER_MONTH = 4.35;
export const HOURS_PER_WEEK = 168;
const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Hour of the week of an instant: 0 = Monday 00:00 UTC. */
export function hourOfWeek(at: number): number {
  const date = new Date(at);
  return ((date.getUTCDay() + 6) % 7) * 24 + date.getUTCHours();
}

export interface WeeklyScheduleHintOptions {
  /** The daily hint issued for the same pool: hours it already covers count only what the week adds. */
  readonly daily?: ScheduleHint | null;
  readonly policy?: WeeklyScheduleHintPolicy;
}

export function weeklyScheduleHint(agentType: string, samples: readonly PoolSample[], now: number, workerHourMicros: number, options: WeeklyScheduleHintOptions = {}): WeeklyScheduleHint | null {
  const policy = options.policy ?? DEFAULT_WEEKLY_SCHEDULE_HINTS;
  const daily = options.daily ?? null;
  if (samples.length === 0) return null;
  const { currentWorkers, slotsPerWorker } = poolAsItRuns(samples);

  // One observation of each slot a week: the pool's busy slots in that hour bucket.
  const bySlot: UsageSample[][] = Array.from({ length: HOURS_PER_WEEK }, () => []);
  for (const [at, value] of busySlotsPerHour(samples)) if (at <= now) bySlot[hourOfWeek(at)].push({ at, value });
  const needed = bySlot.map((slotSamples) => {
    const size = workersNeeded(slotSamples, now, slotsPerWorker, policy.rightSizing);
    if (size === null || slotSamples.length < policy.minWeeks || size.workers >= currentWorkers) return null;
    return { workers: size.workers, weeks: slotSamples.length, p90: size.p90BusySlots };
  });
  // What the pool would run in each slot with the daily hint followed: the baseline the week improves on.
  const inDaily = (slot: number) => daily !== null && slot % 24 >= daily.fromHour && slot % 24 < daily.toHour;
  const dailyWorkers = daily?.workersInWindow ?? currentWorkers;

  let best: { from: number; hours: number; workers: number; weeks: number; p90: number; workerHours: number } | null = null;
  for (let from = 0; from < HOURS_PER_WEEK; from++) {
    let workers = 0;
    let weeks = Number.POSITIVE_INFINITY;
    let p90 = 0;
    let hoursAtCurrent = 0;
    let hoursInDaily = 0;
    for (let hours = 1; hours <= HOURS_PER_WEEK; hours++) {
      const slot = (from + hours - 1) % HOURS_PER_WEEK;
      const need = needed[slot];
      if (need === null) break;
      workers = Math.max(workers, need.workers);
      weeks = Math.min(weeks, need.weeks);
      p90 = Math.max(p90, need.p90);
      if (inDaily(slot)) hoursInDaily++;
      else hoursAtCurrent++;
      if (hours < policy.minHours) continue;
      const workerHours = hoursAtCurrent * (currentWorkers - workers) + hoursInDaily * Math.max(0, dailyWorkers - workers);
      // The most worker-hours beyond the daily hint; of equal ones, the whole quiet stretch.
      if (workerHours > 0 && (best === null || workerHours > best.workerHours || (workerHours === best.workerHours && hours > best.hours))) best = { from, hours, workers, weeks, p90, workerHours };
    }
  }
  if (best === null) return null;
  const window = describeWindow(best.from, best.hours);
  return {
    agentType,
    fromHourOfWeek: best.from,
    hours: best.hours,
    currentWorkers,
    workersInWindow: best.workers,
    p90BusySlots: best.p90,
    workerHoursPerWeek: best.workerHours,
    estimatedMonthlySavingMicros: Math.round(best.workerHours * workerHourMicros * WEEKS_PER_MONTH),
    weeksObserved: best.weeks,
    window,
    daily: daily && { fromHour: daily.fromHour, toHour: daily.toHour, workersInWindow: daily.workersInWindow },
    summary: `the ${agentType} pool could run ${workersText(best.workers)} instead of ${currentWorkers} ${window} (seen over ${best.weeks} weeks)`,
  };
}

/**
 * A window of the week in words: whole days as "on Saturday and Sunday 00:00–24:00 UTC", hours of one
 * day as "on Monday 00:00–09:00 UTC", anything else as "from Friday 18:00 to Monday 06:00 UTC".
 */
export function describeWindow(fromHourOfWeek: number, hours: number): string {
  if (hours >= HOURS_PER_WEEK) return 'all week';
  const day = (hourOfWeekIndex: number) => DAY_NAMES[Math.floor(hourOfWeekIndex / 24) % 7];
  const to = fromHourOfWeek + hours;
  if (fromHourOfWeek % 24 === 0 && to % 24 === 0) {
    const days = Array.from({ length: hours / 24 }, (_, i) => day(fromHourOfWeek + i * 24));
    return `on ${days.length === 1 ? days[0] : `${days.slice(0, -1).join(', ')} and ${days[days.length - 1]}`} 00:00–24:00 UTC`;
  }
  if (Math.floor(fromHourOfWeek / 24) === Math.floor((to - 1) / 24)) return `on ${day(fromHourOfWeek)} ${clock(fromHourOfWeek % 24)}–${clock(((to - 1) % 24) + 1)} UTC`;
  return `from ${day(fromHourOfWeek)} ${clock(fromHourOfWeek % 24)} to ${day(to)} ${clock(to % 24)} UTC`;
}

function workersText(workers: number): string {
  return workers === 1 ? '1 worker' : `${workers} workers`;
}
