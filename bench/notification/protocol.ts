// What the bench and its receiver process share: the clock, how a request's body carries its run tag
// and publish time, and the questions and answers they exchange over IPC.

/**
 * Milliseconds of CLOCK_MONOTONIC (process.hrtime), with microseconds in the fraction: the same clock
 * in every process on the machine (and the clock of V8's CPU profiles), so a time taken in the bench
 * and one taken in the receiver subtract exactly.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Every event the bench publishes, and every request of the baseline, carries its run's tag and its
 * publish time in its execution id: `nb-<tag>-<seq>-<monotonic ms with 3 decimals>`. Fixed width
 * within a run, so that the baseline's bodies are exactly as long as the service's.
 */
export function taggedId(tag: string, seq: number, publishedAt: number): string {
  return `nb-${tag}-${String(seq).padStart(7, '0')}-${publishedAt.toFixed(3).padStart(14, '0')}`;
}

/** A run's tag, always 6 characters: `w` (warm-up), `r` (service, burst), `p` (service, paced) or `b` (baseline), the run, the subscriptions. */
export function runTag(kind: 'w' | 'r' | 'p' | 'b', run: number, subscriptions: number): string {
  return `${kind}${String(run).padStart(2, '0')}s${String(subscriptions).padStart(2, '0')}`;
}

const TAGGED = /"executionId":"nb-([a-z0-9]+)-\d+-(\d+\.\d+)"/;

export function parseTag(body: string): { readonly tag: string; readonly publishedAt: number } | null {
  const match = TAGGED.exec(body);
  return match ? { tag: match[1], publishedAt: Number(match[2]) } : null;
}

/** One run's requests as the receiver saw them, duplicates (the same webhook-id again) counted apart. */
export interface RunReceipts {
  readonly count: number;
  readonly duplicates: number;
  /** Receipt minus the publish time carried in the body, ms, in arrival order. */
  readonly latencies: readonly number[];
  /** Each receipt's time (monotonic ms), in arrival order. */
  readonly receivedAt: readonly number[];
  readonly firstPublishedAt: number;
  readonly lastReceivedAt: number;
  readonly bytes: number;
  /** [endpoint index, requests]. */
  readonly perEndpoint: readonly (readonly [number, number])[];
  /** The run's first request, as sent: for the baseline's body and a signature check. */
  readonly sample: { readonly headers: Readonly<Record<string, string>>; readonly body: string; readonly endpoint: number } | null;
  /** Requests without a run tag, since the receiver started (should stay 0). */
  readonly untagged: number;
}

export type ReceiverQuestion =
  | { readonly kind: 'count'; readonly id: number; readonly tag: string }
  | { readonly kind: 'receipts'; readonly id: number; readonly tag: string }
  | { readonly kind: 'forget'; readonly id: number; readonly tag: string };

export type ReceiverAnswer =
  | { readonly kind: 'listening'; readonly ports: readonly number[] }
  | { readonly kind: 'count'; readonly id: number; readonly count: number }
  | { readonly kind: 'receipts'; readonly id: number; readonly receipts: RunReceipts }
  | { readonly kind: 'forgotten'; readonly id: number };
