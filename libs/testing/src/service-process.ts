import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stack } from './stack';
import { waitFor } from './wait-for';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JS shared with the demo script
const { SERVICE_NODE_ARGS } = require('../../../scripts/service-node-args') as { SERVICE_NODE_ARGS: string[] };

const ROOT = path.resolve(__dirname, '../../..');

/**
 * The services a test can start: each is `services/<name>/src/main.ts`. A new service (scaler,
 * optimizer, notification, …) is one more name here.
 */
export const SERVICE_NAMES = ['orchestrator', 'agent-pool', 'projection', 'optimizer', 'scaler', 'notification'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** One service running as a real process, as in production, so tests can SIGKILL and restart it. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private readonly logFile: string;
  /** Extra arguments for node itself, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  private readonly nodeArgs: readonly string[];

  /** `logName` names its log in test-results/ (default `<name>-<port>`). */
  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    { logName = `${name}-${port}`, nodeArgs = [] }: { logName?: string; nodeArgs?: readonly string[] } = {},
  ) {
    this.nodeArgs = nodeArgs;
    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    this.logFile = path.join(ROOT, 'test-results', `${logName}.log`);
  }

  /** The log file, relative to the repository. */
  get log(): string {
    return path.relative(ROOT, this.logFile);
  }

  /** The running process's pid (none when stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [...SERVICE_NODE_ARGS, ...this.nodeArgs, '-r', '@swc-node/register', `services/${this.name}/src/main.ts`], {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.registryUrl,
        DATABASE_URL: stack.databaseUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: stack.otlpEndpoint,
        HTTP_PORT: String(this.port),
        LOG_LEVEL: 'info',
        ...this.env,
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    const child = this.child;
    const startedAt = Date.now();
    try {
      // A process that exits while starting fails the start at once, not after the whole timeout.
      let onExit: (() => void) | undefined;
      const exited = new Promise<never>((_, reject) => {
        onExit = () => reject(new Error(`${this.name} exited with ${child.exitCode ?? child.signalCode} while starting`));
        child.once('exit', onExit);
      });
      try {
        await Promise.race([
          exited,
          waitFor(`${this.name} to be ready`, async () => {
            const response = await fetch(`${this.url}/ready`);
            if (!response.ok) throw new Error(`/ready answered ${response.status} ${await response.text()}`);
            return true;
          }, { timeoutMs: 120_000, intervalMs: 250 }),
        ]);
      } finally {
        if (onExit) child.off('exit', onExit);
      }
    } catch (error) {
      // CI keeps only the console: put the service's own account of what it was doing in the failure.
      throw new Error(`${(error as Error).message}\n--- last lines of test-results/${path.basename(this.logFile)} ---\n${this.logTail(40)}`);
    }
    this.lastStartMs = Date.now() - startedAt;
  }

  /** How long the last start took until /ready answered 200. */
  lastStartMs = 0;

  private logTail(lines: number): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Kills without any chance to clean up, like a crash or the OOM killer. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = null;
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.child = null;
  }

  /** Graceful shutdown (SIGTERM); a process still running after `graceMs` is killed. */
  async stop(graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = null;
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }
}
