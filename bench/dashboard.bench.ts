// The ops dashboard in headless Chromium with few customers and with hundreds, under the same live
// execution load: time to the first full render, frame intervals (requestAnimationFrame), long tasks,
// the requests the page makes, and how soon after the load stops the cards agree with the API.
// The run with few customers is the baseline of the run with many; compare the ratios.
import { ServiceProcess, uniqueNamespace } from '@flotilla/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { token } from '../test/e2e/support/tokens';
import { ensureStack, fmt, percentile } from './support';

const FEW = Number(process.env.BENCH_FEW_CUSTOMERS ?? 10);
const MANY = Number(process.env.BENCH_MANY_CUSTOMERS ?? 300);
const LOAD_S = Number(process.env.BENCH_DURATION_S ?? 10);
const LOAD_PER_S = Number(process.env.BENCH_EXECUTIONS_PER_S ?? 20);

interface Figures {
  readonly customers: number;
  readonly firstRenderMs: number;
  readonly frameP50: number;
  readonly frameP99: number;
  readonly slowFramesPct: number;
  readonly longTasks: number;
  readonly longTaskMs: number;
  readonly requestsPerS: number;
  readonly rejected: number;
  readonly settleMs: number;
}

async function main() {
  await ensureStack();
  const executablePath = execFileSync(path.resolve(__dirname, '../deploy/native/stack'), ['browser'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const env = { FLOTILLA_NAMESPACE: uniqueNamespace('bd'), LOG_LEVEL: 'error', SYNTHETIC_MIN_DURATION_MS: '10', SYNTHETIC_MAX_DURATION_MS: '50', ADMISSION_CAPACITY: '200', ADMISSION_PER_CUSTOMER_LIMIT: '20' };
  const orchestrator = new ServiceProcess('orchestrator', port, env);
  const agentPool = new ServiceProcess('agent-pool', port + 1, env);
  const projection = new ServiceProcess('projection', port + 2, env);
  await orchestrator.start();
  await Promise.all([agentPool.start(), projection.start()]);
  const ops = await token({ role: 'ops', sub: 'dashboard-bench' });
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    console.log(`\ndashboard benchmark: ${LOAD_PER_S} executions/s for ${LOAD_S} s spread over every customer, 1440x900 viewport`);
    const few = await scenario(browser, orchestrator.url, projection.url, ops, 0, FEW);
    print('few customers (baseline)', few);
    const many = await scenario(browser, orchestrator.url, projection.url, ops, FEW, MANY);
    print('hundreds of customers', many);
    const ratio = (a: number, b: number) => `${fmt(a / b, 2)}x`;
    console.log(
      `\n  ${many.customers} vs ${few.customers} customers: first render ${ratio(many.firstRenderMs, few.firstRenderMs)}, frame p99 ${ratio(many.frameP99, few.frameP99)}, ` +
        `requests/s ${ratio(many.requestsPerS, few.requestsPerS)}, settle ${ratio(many.settleMs, few.settleMs)}`,
    );
  } finally {
    await browser.close();
    await Promise.all([orchestrator.stop(), agentPool.stop(), projection.stop()]);
  }
}

async function scenario(browser: Browser, orchestratorUrl: string, projectionUrl: string, ops: string, from: number, to: number): Promise<Figures> {
  const customers = Array.from({ length: to }, (_, i) => `cust-${String(i).padStart(4, '0')}`);
  // Each new customer gets one execution, so it has a card; then wait until the API shows them all.
  for (let i = from; i < to; i += 20) await Promise.all(customers.slice(i, Math.min(to, i + 20)).map((c) => submit(orchestratorUrl, c)));
  await until(async () => (await cardsInApi(projectionUrl, ops)).length === to, 120_000);
  await until(async () => (await totalsInApi(projectionUrl, ops)).idle, 120_000);

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  let requests = 0;
  let rejected = 0;
  page.on('response', (response) => {
    if (!response.url().includes('/v1/')) return;
    requests++;
    if (response.status() === 429) rejected++;
  });
  const opened = Date.now();
  await page.goto(`${projectionUrl}/dashboard#token=${ops}`);
  await page.waitForFunction((n) => document.querySelectorAll('#cards .card').length === n, to, { timeout: 60_000, polling: 20 });
  const firstRenderMs = Date.now() - opened;
  await page.waitForSelector('#live.on');

  await page.evaluate(() => {
    const perf = { frames: [] as number[], longTasks: [] as number[] };
    (window as unknown as { perf: typeof perf }).perf = perf;
    let last = performance.now();
    const frame = (t: number) => {
      perf.frames.push(t - last);
      last = t;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    new PerformanceObserver((list) => list.getEntries().forEach((e) => perf.longTasks.push(e.duration))).observe({ entryTypes: ['longtask'] });
  });
  const requestsBefore = requests;
  const loadStarted = Date.now();
  for (let i = 0; Date.now() - loadStarted < LOAD_S * 1_000; i++) {
    void submit(orchestratorUrl, customers[Math.floor(Math.random() * to)]);
    await new Promise((resolve) => setTimeout(resolve, 1_000 / LOAD_PER_S));
  }
  const loadMs = Date.now() - loadStarted;
  const requestsPerS = ((requests - requestsBefore) * 1_000) / loadMs;

  // Settled: the page's completed counts add up to what the API says has completed.
  const settleStarted = Date.now();
  await until(async () => {
    const [inPage, inApi] = await Promise.all([
      page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('#cards .card')).reduce((sum, el) => sum + Number(el.dataset.completed ?? 0), 0)),
      totalsInApi(projectionUrl, ops).then((t) => (t.idle ? t.completed : -1)),
    ]);
    return inPage === inApi;
  }, 60_000);
  const settleMs = Date.now() - settleStarted;

  const perf = await page.evaluate(() => (window as unknown as { perf: { frames: number[]; longTasks: number[] } }).perf);
  await page.close();
  const frames = perf.frames.slice(1).sort((a, b) => a - b);
  return {
    customers: to,
    firstRenderMs,
    frameP50: percentile(frames, 50),
    frameP99: percentile(frames, 99),
    slowFramesPct: (frames.filter((f) => f > 50).length / frames.length) * 100,
    longTasks: perf.longTasks.length,
    longTaskMs: perf.longTasks.reduce((a, b) => a + b, 0),
    requestsPerS,
    rejected,
    settleMs,
  };
}

function print(name: string, f: Figures) {
  console.log(`\n  ${name}: ${f.customers} customer cards`);
  console.log(`    first full render      ${fmt(f.firstRenderMs)} ms`);
  console.log(`    frame interval         p50 ${fmt(f.frameP50, 1)} ms   p99 ${fmt(f.frameP99, 1)} ms   frames over 50 ms ${fmt(f.slowFramesPct, 1)} %`);
  console.log(`    long tasks (>50 ms)    ${f.longTasks}, ${fmt(f.longTaskMs)} ms in all over ${LOAD_S} s`);
  console.log(`    page's API requests    ${fmt(f.requestsPerS, 1)}/s${f.rejected ? `   ${f.rejected} answered 429!` : ''}`);
  console.log(`    cards agree with API   ${fmt(f.settleMs)} ms after the load stopped`);
}

/** Submissions go through the orchestrator's authenticated API, as an ops producer. */
const submitter = token({ role: 'ops', sub: 'bench-submitter' });

async function submit(orchestratorUrl: string, customerId: string): Promise<void> {
  const response = await fetch(`${orchestratorUrl}/v1/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await submitter}` },
    body: JSON.stringify({ executionId: randomUUID(), customerId, kind: 'custom', tasks: [{ taskId: 'a', agentType: 'code_gen' }] }),
  });
  if (response.status !== 202) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
}

type Card = { customerId: string; counts: { completed: number; failed: number; running: number; queued: number } };
async function cardsInApi(projectionUrl: string, ops: string): Promise<Card[]> {
  const cards: Card[] = [];
  let cursor: string | null = null;
  do {
    const response = await fetch(`${projectionUrl}/v1/customers?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: { authorization: `Bearer ${ops}` } });
    const page = (await response.json()) as { items: Card[]; nextCursor: string | null };
    cards.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return cards;
}
/** Completed executions over all cards; idle when none is running or queued. */
async function totalsInApi(url: string, ops: string): Promise<{ completed: number; idle: boolean }> {
  const cards = await cardsInApi(url, ops);
  return { completed: cards.reduce((sum, c) => sum + c.counts.completed, 0), idle: cards.every((c) => c.counts.running + c.counts.queued === 0) };
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
