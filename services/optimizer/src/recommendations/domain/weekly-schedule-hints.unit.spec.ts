import type { PoolSample } from './over-provisioning';
import { scheduleHint } from './schedule-hints';
import { describeWindow, hourOfWeek, weeklyScheduleHint, type WeeklyScheduleHint } from './weekly-schedule-hints';

const HOUR = 3_600_000;
const PRICE = 140_000; // µ per worker-hour, the default sheet's
/** Sunday 29 November 2026, 23:59 UTC: the data below ends with a whole week. */
const NOW = Date.UTC(2026, 10, 29, 23, 59);
const [MON, SAT, SUN] = [0, 5, 6];

interface Instance {
  readonly id: string;
  readonly workers: number;
  readonly concurrency: number;
  /** Reporting only from / until this many weeks before NOW (a restart replaces an instance). */
  readonly fromWeeksAgo?: number;
  readonly untilWeeksAgo?: number;
}
/** One instance of 4 workers of 2 slots. */
const ONE: Instance[] = [{ id: 'i-1', workers: 4, concurrency: 8 }];

/**
 * `count` whole weeks of hourly rollups, as the store keeps them (each instance's busiest moment per
 * hour, one sample at the hour's start + 1 ms), ending at NOW; `busySlots(day, hour, weeksAgo)` slots
 * busy on each instance, day 0 = Monday, weeksAgo 0 = the latest week.
 */
function weeks(count: number, busySlots: (day: number, hour: number, weeksAgo: number) => number, instances: Instance[] = ONE): PoolSample[] {
  const start = Date.UTC(2026, 10, 30 - 7 * count);
  const samples: PoolSample[] = [];
  for (let h = 0; h < count * 168; h++) {
    const weeksAgo = count - 1 - Math.floor(h / 168);
    for (const i of instances) {
      if (weeksAgo >= (i.fromWeeksAgo ?? count) || weeksAgo < (i.untilWeeksAgo ?? 0)) continue;
      const busy = busySlots(Math.floor(h / 24) % 7, h % 24, weeksAgo);
      samples.push({ instanceId: i.id, windowEndedAt: start + h * HOUR + 1, workers: i.workers, concurrency: i.concurrency, utilization: busy / i.concurrency });
    }
  }
  return samples;
}
const weekend = (day: number) => day === SAT || day === SUN;
/** 7 of 8 slots busy on weekdays (5 workers at p90 + 15 %, more than the pool has), 1 at weekends (1 worker). */
const busyOnWeekdays = (day: number) => (weekend(day) ? 1 : 7);

describe('weekly schedule hints: the quiet hours of some days of the week', () => {
  const expectations: [string, PoolSample[], Partial<WeeklyScheduleHint> | null][] = [
    [
      // 3 workers given back for the 48 hours of each weekend, 4.35 weeks a month.
      'a pool busy on weekdays and idle at weekends: 1 worker instead of 4 on Saturday and Sunday',
      weeks(3, busyOnWeekdays),
      {
        fromHourOfWeek: 120,
        hours: 48,
        currentWorkers: 4,
        workersInWindow: 1,
        p90BusySlots: 1,
        weeksObserved: 3,
        workerHoursPerWeek: 3 * 48,
        estimatedMonthlySavingMicros: Math.round(3 * 48 * PRICE * 4.35),
        summary: 'the code_gen pool could run 1 worker instead of 4 on Saturday and Sunday 00:00–24:00 UTC (seen over 3 weeks)',
      },
    ],
    ['two weeks are the least: each hour of the week seen twice', weeks(2, busyOnWeekdays), { hours: 48, weeksObserved: 2, summary: 'the code_gen pool could run 1 worker instead of 4 on Saturday and Sunday 00:00–24:00 UTC (seen over 2 weeks)' }],
    ['one week says nothing: each hour of the week seen once', weeks(1, busyOnWeekdays), null],
    ['a pool busy every hour of every day has no weekly hint', weeks(3, () => 7), null],
    [
      'quiet on Monday mornings only: 00:00–09:00, 3 workers back for 9 hours a week',
      weeks(3, (day, hour) => (day === MON && hour < 9 ? 1 : 7)),
      { fromHourOfWeek: 0, hours: 9, workersInWindow: 1, workerHoursPerWeek: 27, estimatedMonthlySavingMicros: Math.round(27 * PRICE * 4.35), summary: 'the code_gen pool could run 1 worker instead of 4 on Monday 00:00–09:00 UTC (seen over 3 weeks)' },
    ],
    [
      'a window may wrap from Sunday into Monday',
      weeks(3, (day, hour) => ((day === SUN && hour >= 18) || (day === MON && hour < 6) ? 1 : 7)),
      { fromHourOfWeek: 162, hours: 12, workerHoursPerWeek: 36, summary: 'the code_gen pool could run 1 worker instead of 4 from Sunday 18:00 to Monday 06:00 UTC (seen over 3 weeks)' },
    ],
    [
      'each hour of the week at its p90 across the weeks: a busy Saturday last week keeps Saturday out',
      weeks(3, (day, _hour, weeksAgo) => (day === SAT && weeksAgo === 0 ? 7 : busyOnWeekdays(day))),
      { fromHourOfWeek: 144, hours: 24, workerHoursPerWeek: 72, summary: 'the code_gen pool could run 1 worker instead of 4 on Sunday 00:00–24:00 UTC (seen over 3 weeks)' },
    ],
    [
      // Weights halve every week: of four Saturdays the oldest weighs 1/15 of the whole, under the 10 % above p90.
      'older weeks count less: one busy Saturday four weeks ago does not',
      weeks(4, (day, _hour, weeksAgo) => (day === SAT && weeksAgo === 3 ? 7 : busyOnWeekdays(day))),
      { fromHourOfWeek: 120, hours: 48, weeksObserved: 4 },
    ],
    [
      // 2 instances of 2 workers × 2 slots: 1 busy slot each at weekends is 2 for the pool, 2.3 with the margin, 2 workers.
      'the pool is sized as a whole: its instances busy slots added up per hour',
      weeks(3, (day) => (weekend(day) ? 1 : 4), [
        { id: 'i-1', workers: 2, concurrency: 4 },
        { id: 'i-2', workers: 2, concurrency: 4 },
      ]),
      { hours: 48, currentWorkers: 4, workersInWindow: 2, p90BusySlots: 2, workerHoursPerWeek: 2 * 48, summary: 'the code_gen pool could run 2 workers instead of 4 on Saturday and Sunday 00:00–24:00 UTC (seen over 3 weeks)' },
    ],
    [
      'an instance replaced by a restart a week ago is not part of the pool as it runs now',
      weeks(3, busyOnWeekdays, [
        { id: 'old', workers: 4, concurrency: 8, untilWeeksAgo: 1 },
        { id: 'new', workers: 4, concurrency: 8, fromWeeksAgo: 1 },
      ]),
      { hours: 48, currentWorkers: 4, workersInWindow: 1, weeksObserved: 3 },
    ],
  ];

  it.each(expectations)('%s', (_name, samples, expected) => {
    const hint = weeklyScheduleHint('code_gen', samples, NOW, PRICE);
    if (expected === null) expect(hint).toBeNull();
    else expect(hint).toMatchObject(expected);
  });

  it('says nothing without samples', () => {
    expect(weeklyScheduleHint('code_gen', [], NOW, PRICE)).toBeNull();
  });
});

describe('weekly schedule hints beyond the daily one', () => {
  /** Quiet every night 00:00–06:00 and all weekend; busy on weekday days. */
  const nightsAndWeekends = (day: number, hour: number) => (hour < 6 || weekend(day) ? 1 : 7);

  it('a pool with the same quiet hours every day: the daily hint says it all, the weekly one nothing', () => {
    const samples = weeks(3, (_day, hour) => (hour < 6 ? 1 : 7));
    const daily = scheduleHint('code_gen', samples, NOW, PRICE)!;
    expect(daily).toMatchObject({ fromHour: 0, toHour: 6, workersInWindow: 1 });
    expect(weeklyScheduleHint('code_gen', samples, NOW, PRICE, { daily })).toBeNull();
    // Without the daily hint, one of those nights would be a weekly window (the first of equals: Monday's).
    expect(weeklyScheduleHint('code_gen', samples, NOW, PRICE)).toMatchObject({ fromHourOfWeek: 0, hours: 6, workerHoursPerWeek: 18 });
  });

  it('a pool quiet at night and at weekends: the weekend counts only the hours the nightly schedule does not already give back', () => {
    const samples = weeks(3, nightsAndWeekends);
    const daily = scheduleHint('code_gen', samples, NOW, PRICE)!;
    expect(daily).toMatchObject({ fromHour: 0, toHour: 6, workersInWindow: 1 });
    const hint = weeklyScheduleHint('code_gen', samples, NOW, PRICE, { daily })!;
    // Saturday 00:00 to Monday 06:00 is quiet (54 h), 18 of them nights the daily hint covers: 36 h × 3 workers.
    expect(hint).toMatchObject({ fromHourOfWeek: 120, hours: 54, workersInWindow: 1, workerHoursPerWeek: 108, daily: { fromHour: 0, toHour: 6, workersInWindow: 1 } });
    expect(hint.estimatedMonthlySavingMicros).toBe(Math.round(108 * PRICE * 4.35));
    expect(hint.summary).toBe('the code_gen pool could run 1 worker instead of 4 from Saturday 00:00 to Monday 06:00 UTC (seen over 3 weeks)');
  });

  it('a weekend that needs fewer workers than the nightly schedule gives back the difference at night too', () => {
    // Nights need 2 workers (3 busy slots), weekends 1: the weekend nights give back 1 more each hour.
    const samples = weeks(3, (day, hour) => (weekend(day) ? 1 : hour < 6 ? 3 : 7));
    const daily = scheduleHint('code_gen', samples, NOW, PRICE)!;
    expect(daily).toMatchObject({ fromHour: 0, toHour: 6, workersInWindow: 2 });
    const hint = weeklyScheduleHint('code_gen', samples, NOW, PRICE, { daily })!;
    // 36 weekend day hours × 3 + 12 weekend night hours × (2 − 1); running on into Monday's night would make the window 2 workers.
    expect(hint).toMatchObject({ fromHourOfWeek: 120, hours: 48, workersInWindow: 1, workerHoursPerWeek: 36 * 3 + 12 });
  });
});

describe('the week in words', () => {
  it.each([
    [hourOfWeek(Date.UTC(2026, 10, 30, 0)), 'Monday 00:00 is hour 0', 0],
    [hourOfWeek(Date.UTC(2026, 10, 29, 23, 59)), 'Sunday 23:59 is hour 167', 167],
  ])('%s: %s', (actual, _name, expected) => expect(actual).toBe(expected));

  it.each([
    [120, 48, 'on Saturday and Sunday 00:00–24:00 UTC'],
    [144, 24, 'on Sunday 00:00–24:00 UTC'],
    [96, 72, 'on Friday, Saturday and Sunday 00:00–24:00 UTC'],
    [144, 48, 'on Sunday and Monday 00:00–24:00 UTC'],
    [0, 9, 'on Monday 00:00–09:00 UTC'],
    [162, 6, 'on Sunday 18:00–24:00 UTC'],
    [162, 12, 'from Sunday 18:00 to Monday 06:00 UTC'],
    [114, 54, 'from Friday 18:00 to Monday 00:00 UTC'],
    [0, 168, 'all week'],
  ])('from hour %i for %i hours: %s', (from, hours, words) => expect(describeWindow(from, hours)).toBe(words));
});
