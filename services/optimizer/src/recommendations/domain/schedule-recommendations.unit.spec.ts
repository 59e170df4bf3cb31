import type { PoolSample } from './over-provisioning';
import { scheduleRecommendations } from './schedule-recommendations';

const HOUR = 3_600_000;
const PRICE = 140_000;
/** Sunday 29 November 2026, 23:59 UTC. */
const NOW = Date.UTC(2026, 10, 29, 23, 59);

/** Four weeks of hourly rollups of one instance of 4 workers of 2 slots, as the recommender reads them; day 0 = Monday. */
function fourWeeks(busySlots: (day: number, hour: number) => number): PoolSample[] {
  const start = Date.UTC(2026, 10, 2);
  return Array.from({ length: 4 * 168 }, (_, h) => ({ instanceId: 'i-1', windowEndedAt: start + h * HOUR + 1, workers: 4, concurrency: 8, utilization: busySlots(Math.floor(h / 24) % 7, h % 24) / 8 }));
}
const weekend = (day: number) => day >= 5;

describe('schedule recommendations: daily and weekly', () => {
  it('a pool quiet every night and all weekend gets both, the weekly one counting only what the nightly one does not give back', () => {
    const [daily, weekly, ...rest] = scheduleRecommendations('code_gen', fourWeeks((day, hour) => (hour < 6 || weekend(day) ? 1 : 7)), NOW, PRICE);
    expect(rest).toEqual([]);
    // Every night 00:00–06:00, over the last two weeks: 3 workers back for 6 hours, 30.4 days a month.
    expect(daily).toEqual({
      kind: 'schedule',
      agentType: 'code_gen',
      currentWorkers: 4,
      recommendedWorkers: 1,
      estimatedMonthlySavingMicros: Math.round(3 * 6 * PRICE * 30.4),
      confidence: 1,
      efficiency: 0.25,
      summary: 'the code_gen pool could run 1 worker(s) instead of 4 between 00:00 and 06:00 UTC (seen on 14 days)',
      evidence: { window: 'every day 00:00–06:00 UTC', fromHourUtc: '0', toHourUtc: '6', workersInWindow: '1', daysObserved: '14' },
    });
    // Saturday 00:00 to Monday 06:00 (54 h a week), less the 18 night hours the daily one covers: 36 h × 3 workers, 4.35 weeks a month.
    expect(weekly).toEqual({
      kind: 'schedule_weekly',
      agentType: 'code_gen',
      currentWorkers: 4,
      recommendedWorkers: 1,
      estimatedMonthlySavingMicros: Math.round(108 * PRICE * 4.35),
      confidence: 1,
      efficiency: 0.25,
      summary: 'the code_gen pool could run 1 worker instead of 4 from Saturday 00:00 to Monday 06:00 UTC (seen over 4 weeks)',
      evidence: {
        window: 'from Saturday 00:00 to Monday 06:00 UTC',
        fromHourOfWeekUtc: '120',
        hoursPerWeek: '54',
        workersInWindow: '1',
        p90BusySlots: '1.00',
        weeksObserved: '4',
        workerHoursSavedPerWeek: '108',
        beyondDailySchedule: '00:00–06:00 UTC at 1 worker(s)',
      },
    });
  });

  it.each([
    ['busy on weekdays, idle at weekends: weekly only', (day: number) => (weekend(day) ? 1 : 7), ['schedule_weekly']],
    ['the same quiet nights every day: daily only', (_day: number, hour: number) => (hour < 6 ? 1 : 7), ['schedule']],
    ['busy all the time: neither', () => 7, []],
  ])('%s', (_name, busySlots, kinds) => {
    expect(scheduleRecommendations('code_gen', fourWeeks(busySlots), NOW, PRICE).map((r) => r.kind)).toEqual(kinds);
  });

  it('the daily pattern reads the last two weeks only; the weekly one, with half the weeks, is half as confident', () => {
    const recent = fourWeeks((day) => (weekend(day) ? 1 : 7)).filter((s) => s.windowEndedAt > NOW - 14 * 86_400_000);
    const [weekly] = scheduleRecommendations('code_gen', recent, NOW, PRICE);
    expect(weekly).toMatchObject({ kind: 'schedule_weekly', confidence: 0.5, evidence: { weeksObserved: '2' } });
    // Nights quiet only in the two oldest weeks: no longer a daily pattern.
    const stale = fourWeeks((_day, hour) => (hour < 6 ? 1 : 7)).map((s) => (s.windowEndedAt > NOW - 14 * 86_400_000 ? { ...s, utilization: 7 / 8 } : s));
    expect(scheduleRecommendations('code_gen', stale, NOW, PRICE)).toEqual([]);
  });
});
