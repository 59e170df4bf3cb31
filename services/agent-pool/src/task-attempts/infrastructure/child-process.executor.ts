import type { TaskDispatched } from '@flotilla/contracts';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { renderTemplate, TemplateError } from './template';
import type { ExecutionContext, ExecutorOutcome, TaskExecutor } from '../task-executor';

export interface ChildProcessExecutorOptions {
  readonly command: string;
  /** Each argument may hold placeholders (see renderTemplate); no shell is involved, so nothing is interpreted. */
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Output kept per stream; the rest is dropped and the output marked truncated. */
  readonly maxOutputBytes?: number;
  /** Time between SIGTERM and SIGKILL when the attempt is stopped. */
  readonly killGraceMs?: number;
}

/**
 * Runs one attempt as a child process: templated arguments, bounded stdout/stderr, a time limit,
 * SIGTERM then SIGKILL on cancel or timeout, exit code mapped to the outcome. Heartbeats while the
 * process lives; CPU time and peak RSS are read from /proc while it runs.
 */
export class ChildProcessExecutor implements TaskExecutor {
  constructor(private readonly options: ChildProcessExecutorOptions) {}

  async run(task: TaskDispatched, { signal, heartbeat }: ExecutionContext): Promise<ExecutorOutcome> {
    let args: string[];
    try {
      args = this.options.args.map((a) => renderTemplate(a, task));
    } catch (error) {
      if (error instanceof TemplateError) return { ok: false, errorKind: error.errorKind, reason: error.message };
      throw error;
    }
    const maxBytes = this.options.maxOutputBytes ?? 64 * 1024;
    const child = spawn(this.options.command, args, {
      cwd: this.options.cwd,
      env: { ...process.env, ...this.options.env, FLOTILLA_EXECUTION_ID: task.executionId, FLOTILLA_TASK_ID: task.taskId, FLOTILLA_ATTEMPT: String(task.attempt) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so that a kill reaches what it started too
    });
    const stdout = new BoundedOutput(maxBytes);
    const stderr = new BoundedOutput(maxBytes);
    const usage = { cpuTimeMs: 0, peakRssBytes: 0 };
    child.stdout.on('data', (chunk: Buffer) => stdout.append(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.append(chunk));

    let stoppedBecause: 'timeout' | 'cancelled' | null = null;
    const stop = (why: 'timeout' | 'cancelled') => {
      if (stoppedBecause || child.exitCode !== null) return;
      stoppedBecause = why;
      killGroup(child.pid, 'SIGTERM');
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), this.options.killGraceMs ?? 2_000).unref();
    };
    const timer = setTimeout(() => stop('timeout'), this.options.timeoutMs);
    const onAbort = () => stop('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    const sampler = setInterval(() => {
      sampleUsage(child.pid, usage);
      heartbeat();
    }, 200);

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, exitSignal) => resolve({ code, signal: exitSignal }));
    });
    clearTimeout(timer);
    clearInterval(sampler);
    signal.removeEventListener('abort', onAbort);

    const output = { stdout: stdout.text(), stderr: stderr.text(), exitCode: String(exit.code ?? ''), truncated: String(stdout.truncated || stderr.truncated) };
    if (exit.error) return { ok: false, errorKind: 'executor_error', reason: `${this.options.command} could not start: ${exit.error.message}`, output, usage };
    if (stoppedBecause === 'timeout') return { ok: false, errorKind: 'timeout', reason: `killed after the ${this.options.timeoutMs} ms time limit`, output, usage };
    if (stoppedBecause === 'cancelled') return { ok: false, errorKind: 'cancelled', reason: `stopped: ${String((signal.reason as Error)?.message ?? 'cancelled')}`, output, usage };
    if (exit.code === 0) return { ok: true, output, usage };
    const why = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
    const tail = stderr.text().trim().split('\n').slice(-3).join(' | ');
    return { ok: false, errorKind: exit.signal ? 'killed' : 'exit_code', reason: tail ? `${why}: ${tail}` : why, output, usage };
  }
}

class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  append(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_SIZE = 4096;

/** Linux: the child's own CPU time (utime + stime) and its peak resident set, from /proc. */
function sampleUsage(pid: number | undefined, usage: { cpuTimeMs: number; peakRssBytes: number }): void {
  if (!pid) return;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    usage.cpuTimeMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    usage.peakRssBytes = Math.max(usage.peakRssBytes, Number(fields[21]) * PAGE_SIZE);
  } catch {
    // the process ended between samples, or /proc is not there
  }
}
