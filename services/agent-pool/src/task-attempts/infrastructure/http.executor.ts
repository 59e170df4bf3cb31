import type { TaskDispatched } from '@flotilla/contracts';
import type { ExecutionContext, ExecutorOutcome, TaskExecutor } from '../task-executor';

export interface HttpExecutorOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * POSTs the task as JSON (e.g. to a model gateway) and maps the answer: 2xx is success with the
 * response's string fields as output; 4xx is a non-retryable `http_client_error`; 5xx and network
 * failures are `http_error`, which retry policies usually retry.
 */
export class HttpExecutor implements TaskExecutor {
  constructor(private readonly options: HttpExecutorOptions) {}

  async run(task: TaskDispatched, { signal, heartbeat }: ExecutionContext): Promise<ExecutorOutcome> {
    const limit = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]);
    const alive = setInterval(() => heartbeat(), 1_000);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body: JSON.stringify({ executionId: task.executionId, taskId: task.taskId, attempt: task.attempt, agentType: task.agentType, customerId: task.customerId, input: task.input }),
        signal: limit,
      });
      const text = (await response.text()).slice(0, 64 * 1024);
      if (!response.ok) {
        return { ok: false, errorKind: response.status < 500 ? 'http_client_error' : 'http_error', reason: `HTTP ${response.status} from ${this.options.url}: ${text.slice(0, 300)}` };
      }
      return { ok: true, output: toOutput(text) };
    } catch (error) {
      if (signal.aborted) return { ok: false, errorKind: 'cancelled', reason: String((signal.reason as Error)?.message ?? 'cancelled') };
      if (limit.aborted) return { ok: false, errorKind: 'timeout', reason: `no answer from ${this.options.url} within ${this.options.timeoutMs} ms` };
      return { ok: false, errorKind: 'http_error', reason: `${this.options.url}: ${(error as Error).message}` };
    } finally {
      clearInterval(alive);
    }
  }
}

function toOutput(text: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    }
  } catch {
    // not JSON: keep the body as it is
  }
  return { body: text };
}
