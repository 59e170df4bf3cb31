// The bench's handle on its receiver process (receiver-process.ts): fork, endpoints' URLs, questions over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { processCpuMs } from './machine';
import type { ReceiverAnswer, ReceiverQuestion, RunReceipts } from './protocol';

/** A question without its id (each member of the union on its own). */
type WithoutId<Q> = Q extends unknown ? Omit<Q, 'id'> : never;
type Question = WithoutId<ReceiverQuestion>;

export class Receiver {
  private nextId = 1;
  private readonly waiting = new Map<number, (answer: ReceiverAnswer) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly ports: readonly number[],
  ) {
    child.on('message', (answer: ReceiverAnswer) => {
      if (!('id' in answer)) return;
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
  }

  /** A receiver process with `endpoints` servers, each on its own port. */
  static async start(endpoints: number): Promise<Receiver> {
    const child = fork(path.join(__dirname, 'receiver-process.ts'), [String(endpoints)], { execArgv: ['-r', '@swc-node/register'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ports = await new Promise<readonly number[]>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the receiver exited with ${code} while starting`)));
      child.on('message', (answer: ReceiverAnswer) => {
        if (answer.kind === 'listening') resolve(answer.ports);
      });
    });
    child.removeAllListeners('exit');
    return new Receiver(child, ports);
  }

  url(endpoint: number): string {
    return `http://127.0.0.1:${this.ports[endpoint]}/hook`;
  }

  /** CPU time the receiver process has used so far (user + system), ms. */
  cpuMs(): number {
    return this.child.pid === undefined ? NaN : processCpuMs(this.child.pid);
  }

  async count(tag: string): Promise<number> {
    const answer = await this.ask({ kind: 'count', tag });
    return answer.kind === 'count' ? answer.count : NaN;
  }

  async receipts(tag: string): Promise<RunReceipts> {
    const answer = await this.ask({ kind: 'receipts', tag });
    if (answer.kind !== 'receipts') throw new Error(`the receiver answered ${answer.kind} to receipts`);
    return answer.receipts;
  }

  async forget(tag: string): Promise<void> {
    await this.ask({ kind: 'forget', tag });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }

  private ask(question: Question): Promise<ReceiverAnswer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...question, id } as ReceiverQuestion, (error) => {
        if (error) {
          this.waiting.delete(id);
          reject(error);
        }
      });
    });
  }
}
