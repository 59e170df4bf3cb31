import type { Logger } from '@flotilla/observability';
import { PollingLoop } from './polling-loop';

/** Records what the loop logs, by level. */
function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_: unknown, message: string) => void lines.push({ level, message });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as Logger };
}

describe('polling loop', () => {
  it('retries a failing round with growing pauses, logs the outage once, and says when it works again', async () => {
    const { lines, logger } = recordingLogger();
    const startedAt: number[] = [];
    let calls = 0;
    let recovered: () => void = () => {};
    const done = new Promise<void>((resolve) => (recovered = resolve));
    const loop = new PollingLoop('probe', async () => {
      startedAt.push(Date.now());
      if (++calls <= 4) throw new Error('database away');
      recovered();
    }, logger, 10);
    loop.start();
    await done;
    await loop.stop();

    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual(['probe works again']);
    const pauses = startedAt.slice(1).map((t, i) => t - startedAt[i]);
    // 20, 40, 80, 160 ms after the 1st..4th failure (timers may fire a little late, never early).
    expect(pauses.slice(0, 4).every((pause, i) => pause >= 10 * 2 ** (i + 1) - 2)).toBe(true);
  });

  it('goes again at once when a round says so, and on a nudge', async () => {
    const { logger } = recordingLogger();
    let rounds = 0;
    const loop = new PollingLoop('batches', async () => ++rounds < 3, logger, 60_000);
    loop.start();
    while (rounds < 3) await new Promise((resolve) => setImmediate(resolve));
    loop.nudge();
    while (rounds < 4) await new Promise((resolve) => setImmediate(resolve));
    await loop.stop();
    expect(rounds).toBe(4);
  });
});
