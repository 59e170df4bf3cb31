/// <reference lib="dom" />
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { token } from './support/tokens';

const ROOT = path.resolve(__dirname, '../..');

/**
 * The dashboard in headless Chromium (Debian's package, installed by `deploy/native/stack browser`):
 * it reads the overview, and a customer card appears and changes live as executions run, without a
 * reload; the Costs view draws spend per pool, a budget bar and the costs per customer, and follows
 * new costs live. The run leaves screenshots in test-results/dashboard.png and dashboard-costs.png.
 */
describe('dashboard in a browser', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'optimizer' | 'projection'>;
  let browser: Browser;
  let page: Page;
  let opsToken = '';
  // A price per attempt, so that the short synthetic attempts cost enough to draw.
  const priceSheetFile = path.join(os.tmpdir(), `flotilla-dashboard-prices-${randomUUID()}.json`);

  beforeAll(async () => {
    opsToken = await token({ role: 'ops' });
    fs.writeFileSync(priceSheetFile, JSON.stringify({ currency: 'USD', default: { cpuCoreHourMicros: 50_000, memoryGbHourMicros: 10_000, workerHourMicros: 140_000, perTaskMicros: 2_500, perUnitMicros: {}, requested: { cpuCores: 0.25, memoryGb: 0.25 } } }));
    const executablePath = execFileSync(path.join(ROOT, 'deploy/native/stack'), ['browser'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
    flotilla = await startFlotilla({
      namespacePrefix: 'dash',
      services: ['orchestrator', 'agent-pool', 'optimizer', 'projection'],
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '200', SYNTHETIC_MAX_DURATION_MS: '400' }, optimizer: { PRICE_SHEET_FILE: priceSheetFile } },
    });
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await flotilla?.stop();
    fs.rmSync(priceSheetFile, { force: true });
  });

  const submit = async (customerId: string) => {
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` },
      body: JSON.stringify({ executionId: `${customerId}-${randomUUID().slice(0, 8)}`, customerId, kind: 'review', deadlineAt: Date.now() + 4 * 86_400_000 }),
    });
    expect(response.status).toBe(202);
  };

  it('shows the overview, then customer cards that change live as executions run', async () => {
    await page.goto(`${flotilla.url('projection')}/dashboard#token=${await token({ role: 'ops', sub: 'dashboard-e2e' })}`);
    await page.waitForSelector('#live.on', { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('[data-o="customers"]')?.textContent === '0', null, { timeout: 15_000 });
    expect(await page.textContent('[data-o="active"]')).toBe('0 / 5');
    expect(await page.textContent('[data-o="health"]')).toBe('green');

    for (let i = 0; i < 3; i++) await submit('acme');
    await submit('globex');

    // No reload: the cards appear and their completed counts climb from the stream alone.
    await page.waitForFunction(() => document.querySelector('[data-customer="acme"]')?.getAttribute('data-completed') === '3', null, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-customer="globex"]')?.getAttribute('data-completed') === '1', null, { timeout: 30_000 });
    await waitFor('the overview to count both customers', async () => (await page.textContent('[data-o="customers"]')) === '2', { timeoutMs: 15_000 });
    expect(await page.evaluate(() => Array.from(document.querySelectorAll('[data-customer]')).map((el) => el.getAttribute('data-customer')))).toEqual(['acme', 'globex']);
    expect(await page.textContent('[data-customer="acme"] [data-c="success"]')).toBe('100 %');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);

    fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-results/dashboard.png'), fullPage: true });
  });

  it('shows what things cost: spend per pool, a budget against its thresholds, costs per customer, live', async () => {
    const budget = await fetch(`${flotilla.url('optimizer')}/v1/budgets/customer:acme`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` },
      body: JSON.stringify({ period: 'monthly', amountMicros: 20_000 }),
    });
    expect(budget.status).toBe(200);
    await submit('acme');
    await page.goto(`${flotilla.url('projection')}/dashboard#/costs`);
    await page.waitForSelector('#live.on', { timeout: 15_000 });
    // The bar of acme's budget, with its three threshold ticks, once its spend counts the new execution.
    await page.waitForSelector('[data-budget="customer:acme"] .budget-bar', { timeout: 30_000 });
    expect(await page.locator('[data-budget="customer:acme"] .tick').count()).toBe(3);
    await page.waitForFunction(() => document.querySelectorAll('#spend-chart rect').length > 0, null, { timeout: 30_000 });
    expect(await page.textContent('#spend-legend')).toContain('security_scan');
    await page.waitForFunction(() => /acme/.test(document.querySelector('#customer-costs')?.textContent ?? ''), null, { timeout: 30_000 });

    // A customer with no cost yet appears once its first attempts are costed, without a reload.
    expect(await page.textContent('#customer-costs')).not.toContain('initech');
    await submit('initech');
    await page.waitForFunction(() => /initech/.test(document.querySelector('#customer-costs')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.screenshot({ path: path.join(ROOT, 'test-results/dashboard-costs.png'), fullPage: true });
  });
});
