import { compress, DEFAULT_RETRY_SCHEDULE, nextAttemptDelayMs, parseRetrySchedule } from './retry-schedule';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('retry schedule', () => {
  it('defaults to Svix: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(DEFAULT_RETRY_SCHEDULE).toEqual([0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]);
  });

  // attemptsMade, scheduled delay; each row checked at the low end, the middle and the high end of the spread.
  it.each([
    [0, 0],
    [1, 5 * SECOND],
    [2, 5 * MINUTE],
    [3, 30 * MINUTE],
    [4, 2 * HOUR],
    [5, 5 * HOUR],
    [6, 10 * HOUR],
    [7, 10 * HOUR],
  ])('after %i attempt(s) waits %i ms, jittered within ±20 %%', (attemptsMade, scheduled) => {
    expect(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE, attemptsMade, 0)).toEqual({ kind: 'retry', delayMs: Math.round(scheduled * 0.8) });
    expect(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE, attemptsMade, 0.5)).toEqual({ kind: 'retry', delayMs: scheduled });
    expect(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE, attemptsMade, 1)).toEqual({ kind: 'retry', delayMs: Math.round(scheduled * 1.2) });
  });

  it.each([8, 9, 100])('is exhausted after %i attempts, past the last entry', (attemptsMade) => {
    expect(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE, attemptsMade, 0.5)).toEqual({ kind: 'exhausted' });
  });

  it.each([
    // jitterRatio, random01, delayMs for a 10 s entry
    [0, 0, 10 * SECOND],
    [0, 1, 10 * SECOND],
    [0.5, 0, 5 * SECOND],
    [0.5, 0.75, 12.5 * SECOND],
    [1, 0, 0],
    [1, 1, 20 * SECOND],
  ])('spreads by the jitter ratio %d (random %d → %i ms), never below zero', (jitterRatio, random01, delayMs) => {
    expect(nextAttemptDelayMs([10 * SECOND], 0, random01, jitterRatio)).toEqual({ kind: 'retry', delayMs });
  });

  it.each([
    [-1, 0.5, 0.2, 'attemptsMade must be a whole number of at least 0, got -1'],
    [1.5, 0.5, 0.2, 'attemptsMade must be a whole number of at least 0, got 1.5'],
    [0, 1.1, 0.2, 'random01 must lie in [0, 1], got 1.1'],
    [0, Number.NaN, 0.2, 'random01 must lie in [0, 1], got NaN'],
    [0, 0.5, 1.5, 'jitterRatio must lie in [0, 1], got 1.5'],
  ])('refuses attemptsMade %d, random %d, jitter %d', (attemptsMade, random01, jitterRatio, message) => {
    expect(() => nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE, attemptsMade, random01, jitterRatio)).toThrow(message);
  });

  describe('parsing', () => {
    it.each([
      ['0,5s,5m,30m,2h,5h,10h,10h', DEFAULT_RETRY_SCHEDULE],
      [' 0 , 250ms, 1d ', [0, 250, 24 * HOUR]],
      ['30s', [30 * SECOND]],
      ['0ms,0', [0, 0]],
    ])('reads %j', (text, schedule) => {
      expect(parseRetrySchedule(text)).toEqual({ ok: true, schedule });
    });

    it.each([
      ['', [{ field: 'NOTIFICATION_RETRY_SCHEDULE', problem: 'the schedule is empty: give at least one delay, e.g. 0,5s,5m' }]],
      ['0,5x,5m', [{ field: 'NOTIFICATION_RETRY_SCHEDULE[2]', problem: '"5x" is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0' }]],
      ['0,5,,1.5h', [
        { field: 'NOTIFICATION_RETRY_SCHEDULE[2]', problem: '"5" is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0' },
        { field: 'NOTIFICATION_RETRY_SCHEDULE[3]', problem: '"" is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0' },
        { field: 'NOTIFICATION_RETRY_SCHEDULE[4]', problem: '"1.5h" is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0' },
      ]],
      ['-5s', [{ field: 'NOTIFICATION_RETRY_SCHEDULE[1]', problem: '"-5s" is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0' }]],
      ['99999999999999999d', [{ field: 'NOTIFICATION_RETRY_SCHEDULE[1]', problem: '"99999999999999999d" is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0' }]],
    ])('names each bad entry of %j', (text, problems) => {
      expect(parseRetrySchedule(text, 'NOTIFICATION_RETRY_SCHEDULE')).toEqual({ ok: false, problems });
    });
  });

  it('compresses a schedule by a factor for tests', () => {
    expect(compress(DEFAULT_RETRY_SCHEDULE, 1_000)).toEqual([0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
    expect(compress([10, 15], 10)).toEqual([1, 2]);
    expect(() => compress(DEFAULT_RETRY_SCHEDULE, 0)).toThrow('factor must be a positive number, got 0');
  });
});
