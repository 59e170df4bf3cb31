import type { Logger } from '@flotilla/observability';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import type { Worker } from '../domain/pool-replicas';
import type { LaunchingProvisioner, WorkerProcessRows, WorkerSighting } from '../ports';

export interface ProcessProvisionerOptions {
  readonly rows: WorkerProcessRows;
  /** The environment of a worker of `agentType` besides its id and port (the agent pool's own, narrowed to one pool). */
  readonly workerEnv: (agentType: string) => Record<string, string>;
  /** The command that runs a worker: this same service, as it was started (node, its flags, its main). */
  readonly command?: { readonly file: string; readonly args: readonly string[] };
  readonly logger: Logger;
  readonly probeTimeoutMs?: number;
}

interface Tracked {
  readonly workerId: string;
  readonly agentType: string;
  readonly port: number;
  /** Our child; null for a worker adopted from a previous run of the agent pool (watched by its pid). */
  readonly child: ChildProcess | null;
  readonly pid: number | null;
  exit: string | null;
}

/**
 * Workers as OS processes on this host: each runs this service in the worker role for one pool
 * (AGENT_POOL_ROLE=worker), joins the pool's consumer group and takes dispatches with the pool's
 * slots. Ready is its /ready (it answers 200 once its consumers have joined their groups). A drain is
 * SIGTERM: the worker stops fetching, finishes what it holds within its SHUTDOWN_DRAIN_MS, writes how
 * that ended to its row, and exits. A worker whose agent pool died drains and exits by itself (see
 * WorkerLifecycle); one still draining when the agent pool comes back is found by its row and its pid
 * and watched until it is gone.
 */
export class ProcessProvisioner implements LaunchingProvisioner {
  readonly kind = 'process' as const;
  readonly naming = 'loop' as const;
  private readonly tracked = new Map<string, Tracked>();
  private readonly host = os.hostname();
  private readonly command: { readonly file: string; readonly args: readonly string[] };

  constructor(private readonly options: ProcessProvisionerOptions) {
    this.command = options.command ?? { file: process.execPath, args: [...process.execArgv, process.argv[1]] };
  }

  async launch(agentType: string, workerId: string): Promise<void> {
    if (this.tracked.has(workerId)) return;
    const port = await freePort();
    const child = spawn(this.command.file, this.command.args, {
      env: { ...process.env, ...this.options.workerEnv(agentType), AGENT_POOL_ROLE: 'worker', WORKER_ID: workerId, AGENT_TYPES: agentType, HTTP_PORT: String(port) },
      // Its logs go where ours go; it is in our process group, so a signal to the group reaches it too.
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const tracked: Tracked = { workerId, agentType, port, child, pid: child.pid ?? null, exit: null };
    child.once('exit', (code, signal) => (tracked.exit = signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (error) => (tracked.exit = `could not be started: ${error.message}`));
    this.tracked.set(workerId, tracked);
    await this.options.rows.recordStarted({ workerId, agentType, host: this.host, pid: child.pid ?? null, port, startedAt: Date.now() });
    this.options.logger.info({ workerId, agentType, pid: child.pid, port }, 'worker process started');
  }

  async drain(workerId: string): Promise<void> {
    this.signal(workerId, 'SIGTERM');
  }

  async stop(workerId: string): Promise<void> {
    this.signal(workerId, 'SIGKILL');
  }

  async inspect(agentType: string, workers: readonly Worker[]): Promise<ReadonlyMap<string, WorkerSighting>> {
    const unknown = workers.filter((w) => !this.tracked.has(w.workerId)).map((w) => w.workerId);
    if (unknown.length > 0) await this.adopt(agentType, unknown);
    const rows = await this.options.rows.find(workers.map((w) => w.workerId));
    const sightings = new Map<string, WorkerSighting>();
    await Promise.all(
      workers.map(async (worker) => {
        const tracked = this.tracked.get(worker.workerId);
        const row = rows.get(worker.workerId);
        const exited = !tracked ? 'was not found on this host' : (tracked.exit ?? (tracked.child === null && !alive(tracked.pid) ? 'is no longer running' : null));
        if (exited !== null) {
          this.tracked.delete(worker.workerId);
          sightings.set(worker.workerId, { state: 'exited', drained: row?.drainedAt ? { handedBack: row.handedBack ?? 0 } : null, reason: exited });
          return;
        }
        sightings.set(worker.workerId, (await this.probe(tracked!.port)) ? { state: 'ready' } : { state: 'starting' });
      }),
    );
    return sightings;
  }

  async close(): Promise<void> {
    for (const tracked of this.tracked.values()) this.signal(tracked.workerId, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while ([...this.tracked.values()].some((t) => t.exit === null && (t.child ? t.child.exitCode === null && t.child.signalCode === null : alive(t.pid))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Workers of a previous run of the agent pool: still running on this host (same pid, same worker), watched again. */
  private async adopt(agentType: string, workerIds: readonly string[]): Promise<void> {
    const rows = await this.options.rows.find(workerIds);
    for (const workerId of workerIds) {
      const row = rows.get(workerId);
      if (!row || row.host !== this.host || !isWorkerProcess(row.pid, workerId)) continue;
      this.tracked.set(workerId, { workerId, agentType, port: row.port, child: null, pid: row.pid, exit: null });
      this.options.logger.info({ workerId, agentType, pid: row.pid }, 'worker process of a previous run adopted');
    }
  }

  private signal(workerId: string, signal: NodeJS.Signals): void {
    const tracked = this.tracked.get(workerId);
    if (!tracked || tracked.exit !== null) return;
    try {
      if (tracked.child) tracked.child.kill(signal);
      else if (tracked.pid !== null) process.kill(tracked.pid, signal);
    } catch {
      // Already gone: inspect will say so.
    }
  }

  private async probe(port: number): Promise<boolean> {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(this.options.probeTimeoutMs ?? 1_000) });
      return response.ok;
    } catch {
      return false; // not listening yet
    }
  }
}

function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid runs that worker (not a process that reused the pid since): its environment names it. */
function isWorkerProcess(pid: number | null, workerId: string): boolean {
  if (!alive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`WORKER_ID=${workerId}`);
  } catch {
    return false;
  }
}

/** A port free on loopback now (the worker binds it a moment later; a clash fails its start, and it is replaced). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
