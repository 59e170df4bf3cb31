import type { TaskDispatched } from '@flotilla/contracts';
import { ChildProcessExecutor } from '../src/task-attempts/infrastructure/child-process.executor';

/** Real processes, no mocks: what runs, what it printed, how it ended. */
describe('ChildProcessExecutor (real child processes)', () => {
  const task = (input: Record<string, string> = {}): TaskDispatched => ({
    executionId: 'exec-1',
    customerId: 'acme',
    taskId: 'build',
    attempt: 2,
    agentType: 'testing',
    input,
    dispatchedAt: Date.now(),
  });
  const context = (signal = new AbortController().signal) => {
    const beats: number[] = [];
    return { beats, context: { signal, heartbeat: () => beats.push(Date.now()) } };
  };

  it('runs the templated command and captures its output, exit code and resource usage', async () => {
    const executor = new ChildProcessExecutor({
      command: process.execPath,
      args: ['-e', 'const s = Date.now(); while (Date.now() - s < 300) {} console.log(process.argv[1], process.env.FLOTILLA_ATTEMPT)', '{{input.greeting}} {{taskId}}'],
      timeoutMs: 10_000,
    });
    const { context: ctx, beats } = context();
    const outcome = await executor.run(task({ greeting: 'hello' }), ctx);
    expect(outcome).toMatchObject({ ok: true, output: { stdout: 'hello build 2\n', exitCode: '0', truncated: 'false' } });
    expect(outcome.usage!.cpuTimeMs).toBeGreaterThan(0);
    expect(outcome.usage!.peakRssBytes).toBeGreaterThan(1_000_000);
    expect(beats.length).toBeGreaterThan(0);
  });

  it('maps a non-zero exit code to a failure with the end of stderr as the reason', async () => {
    const executor = new ChildProcessExecutor({ command: process.execPath, args: ['-e', 'console.error("lint: 3 problems"); process.exit(3)'], timeoutMs: 10_000 });
    const outcome = await executor.run(task(), context().context);
    expect(outcome).toMatchObject({ ok: false, errorKind: 'exit_code', reason: 'exit code 3: lint: 3 problems', output: { exitCode: '3' } });
  });

  it('kills a command that outlives its time limit', async () => {
    const executor = new ChildProcessExecutor({ command: 'sleep', args: ['30'], timeoutMs: 300, killGraceMs: 200 });
    const started = Date.now();
    const outcome = await executor.run(task(), context().context);
    expect(outcome).toMatchObject({ ok: false, errorKind: 'timeout', reason: 'killed after the 300 ms time limit' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops the process when the attempt is cancelled', async () => {
    const executor = new ChildProcessExecutor({ command: 'sleep', args: ['30'], timeoutMs: 60_000, killGraceMs: 200 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('execution cancelled')), 200);
    const outcome = await executor.run(task(), context(controller.signal).context);
    expect(outcome).toMatchObject({ ok: false, errorKind: 'cancelled', reason: 'stopped: execution cancelled' });
  });

  it('bounds the captured output', async () => {
    const executor = new ChildProcessExecutor({ command: process.execPath, args: ['-e', 'process.stdout.write("x".repeat(100000))'], timeoutMs: 10_000, maxOutputBytes: 1_000 });
    const outcome = await executor.run(task(), context().context);
    expect(outcome.output!.stdout).toHaveLength(1_000);
    expect(outcome.output!.truncated).toBe('true');
  });

  it('refuses a template naming input the task does not have, as a non-retryable input error', async () => {
    const executor = new ChildProcessExecutor({ command: 'echo', args: ['{{input.missing}}'], timeoutMs: 1_000 });
    await expect(executor.run(task(), context().context)).resolves.toMatchObject({ ok: false, errorKind: 'invalid_input' });
  });
});
