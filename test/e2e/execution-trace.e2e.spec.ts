/// <reference lib="dom" />
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { token } from './support/tokens';

const ROOT = path.resolve(__dirname, '../..');

interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  service: string;
  operation: string;
  startTimeUs: number;
  durationUs: number;
  depth: number;
  attributes: Record<string, string | number | boolean>;
  status: string;
}
interface ExecutionTrace {
  executionId: string;
  traceId: string;
  otherTraceIds: string[];
  services: string[];
  spanCount: number;
  spans: TraceSpan[];
}

/**
 * An execution followed end to end as one Jaeger trace: through the projection's
 * GET /v1/executions/:id/trace (scoped like the execution) and on the dashboard's execution page,
 * whose waterfall shows the spans of every service. Leaves test-results/execution-trace.png.
 */
describe('an execution as one trace', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'projection'>;
  let browser: Browser;
  const customer = `tracecust-${randomUUID().slice(0, 6)}`;
  const executionId = `${customer}-${randomUUID().slice(0, 8)}`;
  const tokens: { ops: string; owner: string; other: string } = { ops: '', owner: '', other: '' };

  const getTrace = (id: string, bearer: string | null) =>
    fetch(`${flotilla.url('projection')}/v1/executions/${encodeURIComponent(id)}/trace`, bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } });

  beforeAll(async () => {
    const executablePath = execFileSync(path.join(ROOT, 'deploy/native/stack'), ['browser'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
    [tokens.ops, tokens.owner, tokens.other] = await Promise.all([
      token({ role: 'ops', sub: 'trace-e2e' }),
      token({ role: 'customer', customerId: customer, sub: 'trace-owner' }),
      token({ role: 'customer', customerId: `${customer}-other`, sub: 'trace-other' }),
    ]);
    flotilla = await startFlotilla({
      namespacePrefix: 'trace',
      services: ['orchestrator', 'agent-pool', 'projection'],
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '200', SYNTHETIC_MAX_DURATION_MS: '400' } },
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });

    // The owner submits its own execution, then it runs through the orchestrator and the agent pool.
    const submitted = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.owner}` },
      body: JSON.stringify({ executionId, customerId: customer, kind: 'review', deadlineAt: Date.now() + 4 * 86_400_000 }),
    });
    expect(submitted.status).toBe(202);
    await waitFor(
      'the execution to complete in the read model',
      async () => {
        const response = await fetch(`${flotilla.url('projection')}/v1/executions/${executionId}`, { headers: { authorization: `Bearer ${tokens.ops}` } });
        return response.ok && ((await response.json()) as { status: string }).status === 'completed';
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });
  afterAll(async () => {
    await browser?.close();
    await flotilla?.stop();
  });

  it('answers its spans across services to its owner; 404 to another customer, 401 without a token', async () => {
    // Jaeger ingests spans a few seconds after they end (the exporter's batches): until then, 404.
    // The trace grows as batches arrive: wait until the agent pool's runs of all four tasks are in it.
    const taskRuns = (trace: ExecutionTrace) => trace.spans.filter((s) => s.service === 'agent-pool' && s.operation === 'agent.task.run');
    const trace = await waitFor(
      'the trace to reach Jaeger with the orchestrator\'s spans and the agent pool\'s four task runs',
      async () => {
        const response = await getTrace(executionId, tokens.owner);
        if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
        const body = (await response.json()) as ExecutionTrace;
        return body.services.includes('orchestrator') && taskRuns(body).length === 4 ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );

    expect(trace.executionId).toBe(executionId);
    expect(trace.traceId).toMatch(/^[0-9a-f]{16,32}$/);
    expect(trace.services.length).toBeGreaterThanOrEqual(2);
    expect(trace.spanCount).toBe(trace.spans.length);
    const starts = trace.spans.map((s) => s.startTimeUs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    for (const span of trace.spans) {
      expect(span).toEqual(expect.objectContaining({ spanId: expect.any(String), service: expect.any(String), operation: expect.any(String), durationUs: expect.any(Number), depth: expect.any(Number) }));
    }
    // Each of the review's four tasks ran in the agent pool, within the execution's trace.
    const runs = taskRuns(trace);
    expect(runs.map((s) => s.attributes['flotilla.task_id']).sort()).toEqual(['analysis', 'security_scan', 'style_check', 'summary']);
    expect(runs.every((s) => s.traceId === trace.traceId && s.depth > 0)).toBe(true);

    const other = await getTrace(executionId, tokens.other);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual(expect.objectContaining({ code: 'NOT_FOUND' }));
    const anonymous = await getTrace(executionId, null);
    expect(anonymous.status).toBe(401);
    expect((await getTrace(`${executionId}-unknown`, tokens.ops)).status).toBe(404);
  });

  it("shows the execution's tasks and its span waterfall on the dashboard", async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${flotilla.url('projection')}/dashboard#/executions/${encodeURIComponent(executionId)}?token=${tokens.ops}`);
    // The token is kept for the session and taken out of the address bar.
    expect(page.url()).not.toContain('token=');

    await page.waitForFunction(() => document.querySelectorAll('#tasks-table tr[data-task]').length === 4, null, { timeout: 30_000 });
    expect(await page.textContent('#exec-head .pill')).toBe('completed');
    await page.waitForFunction(
      () => ['orchestrator', 'agent-pool'].every((service) => document.querySelectorAll(`#waterfall .span-row[data-service="${service}"]`).length > 0),
      null,
      { timeout: 60_000, polling: 250 },
    );
    const rows = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('#waterfall .span-row')).map((row) => ({
        service: row.dataset.service,
        title: row.title,
        bar: (row.querySelector('.span-bar') as HTMLElement | null)?.style.width ?? null,
      })),
    );
    expect([...new Set(rows.map((r) => r.service))]).toEqual(expect.arrayContaining(['orchestrator', 'agent-pool']));
    expect(rows.some((r) => r.service === 'agent-pool' && r.title.startsWith('agent.task.run'))).toBe(true);
    expect(rows.filter((r) => r.bar !== null).length).toBeGreaterThan(0);

    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-results/execution-trace.png'), fullPage: true });
    await page.close();
  });
});
