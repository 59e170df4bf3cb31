import type { PoolRecommendation, PoolSample } from './over-provisioning';
import { clock, DEFAULT_SCHEDULE_HINTS, scheduleHint, type ScheduleHint, type ScheduleHintPolicy } from './schedule-hints';
import { DEFAULT_WEEKLY_SCHEDULE_HINTS, weeklyScheduleHint, type WeeklyScheduleHint, type WeeklyScheduleHintPolicy } from './weekly-schedule-hints';

/**
 * A pool's schedule recommendations from its hourly usage: `schedule` (the quiet hours of every day)
 * and `schedule_weekly` (the quiet hours of some days of the week, counted beyond the daily one, so
 * that the two never claim the same worker-hours and both can be followed).
 */
export interface ScheduleRecommendationPolicy {
  /** How far back the daily pattern looks; two weeks. The weekly one uses every hour it is given. */
  readonly dailyHistoryMs: number;
  readonly daily: ScheduleHintPolicy;
  readonly weekly: WeeklyScheduleHintPolicy;
  /** Days and weeks observed at which a daily and a weekly hint are fully confident; 14 and 4. */
  readonly fullConfidenceDays: number;
  readonly fullConfidenceWeeks: number;
}

export const DEFAULT_SCHEDULE_RECOMMENDATIONS: ScheduleRecommendationPolicy = {
  dailyHistoryMs: 14 * 86_400_000,
  daily: DEFAULT_SCHEDULE_HINTS,
  weekly: DEFAULT_WEEKLY_SCHEDULE_HINTS,
  fullConfidenceDays: 14,
  fullConfidenceWeeks: 4,
};

export function scheduleRecommendations(agentType: string, hourly: readonly PoolSample[], now: number, workerHourMicros: number, policy: ScheduleRecommendationPolicy = DEFAULT_SCHEDULE_RECOMMENDATIONS): PoolRecommendation[] {
  const daily = scheduleHint(agentType, hourly.filter((s) => s.windowEndedAt > now - policy.dailyHistoryMs), now, workerHourMicros, policy.daily);
  const weekly = weeklyScheduleHint(agentType, hourly, now, workerHourMicros, { daily, policy: policy.weekly });
  return [...(daily ? [dailyRecommendation(daily, policy)] : []), ...(weekly ? [weeklyRecommendation(weekly, policy)] : [])];
}

/** Fewer workers during the pool's quiet hours of each day. */
function dailyRecommendation(hint: ScheduleHint, policy: ScheduleRecommendationPolicy): PoolRecommendation {
  return {
    kind: 'schedule',
    agentType: hint.agentType,
    currentWorkers: hint.currentWorkers,
    recommendedWorkers: hint.workersInWindow,
    estimatedMonthlySavingMicros: hint.estimatedMonthlySavingMicros,
    confidence: Math.min(1, hint.daysObserved / policy.fullConfidenceDays),
    efficiency: hint.workersInWindow / hint.currentWorkers,
    summary: hint.summary,
    evidence: {
      window: `every day ${clock(hint.fromHour)}–${clock(hint.toHour)} UTC`,
      fromHourUtc: String(hint.fromHour),
      toHourUtc: String(hint.toHour),
      workersInWindow: String(hint.workersInWindow),
      daysObserved: String(hint.daysObserved),
    },
  };
}

/** Fewer workers during the pool's quiet hours of the week, beyond its daily schedule. */
function weeklyRecommendation(hint: WeeklyScheduleHint, policy: ScheduleRecommendationPolicy): PoolRecommendation {
  return {
    kind: 'schedule_weekly',
    agentType: hint.agentType,
    currentWorkers: hint.currentWorkers,
    recommendedWorkers: hint.workersInWindow,
    estimatedMonthlySavingMicros: hint.estimatedMonthlySavingMicros,
    confidence: Math.min(1, hint.weeksObserved / policy.fullConfidenceWeeks),
    efficiency: hint.workersInWindow / hint.currentWorkers,
    summary: hint.summary,
    evidence: {
      window: hint.window,
      fromHourOfWeekUtc: String(hint.fromHourOfWeek),
      hoursPerWeek: String(hint.hours),
      workersInWindow: String(hint.workersInWindow),
      p90BusySlots: hint.p90BusySlots.toFixed(2),
      weeksObserved: String(hint.weeksObserved),
      workerHoursSavedPerWeek: String(hint.workerHoursPerWeek),
      beyondDailySchedule: hint.daily ? `${clock(hint.daily.fromHour)}–${clock(hint.daily.toHour)} UTC at ${hint.daily.workersInWindow} worker(s)` : 'none',
    },
  };
}
