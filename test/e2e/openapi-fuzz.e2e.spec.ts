import { signToken } from '@flotilla/service-kit';
import { startFlotilla, testPool, waitFor, type Flotilla, type ServiceName } from '@flotilla/testing';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pool } from 'pg';

/**
 * Each service's OpenAPI document tells the truth: Schemathesis (test/fuzz, pinned) generates
 * requests from /openapi.json, valid and invalid, and checks every answer. With an ops token: no
 * 5xx, no status the operation does not document, every body as documented, and no schema-valid
 * request refused as invalid (400 only with a code for what no schema can state: hooks.py). Without
 * a token: every operation answers 401 with WWW-Authenticate. Afterwards, nothing the fuzz got
 * accepted is stuck in an outbox (an event its own topic's schema refuses would block the relay).
 *
 * GET /v1/stream is left out of the authenticated run: a valid request opens a Server-Sent Events
 * stream that never ends, which Schemathesis can only count as a timeout. Its refusals (bad
 * parameters, no token, another customer) are checked here by hand against its document, and the
 * unauthenticated run covers it (every request ends with 401).
 *
 * FLOTILLA_FUZZ_EXAMPLES (default 15) sets the examples per operation; FLOTILLA_FUZZ_SEED replays a
 * run (each failure message names its seed).
 */
const FUZZ = path.resolve(__dirname, '../fuzz');
const ROOT = path.resolve(__dirname, '../..');
// Where Schemathesis and Hypothesis may leave files of their own, and where the JUnit reports go (ignored by git).
const RESULTS = path.join(ROOT, 'test-results', 'schemathesis');
const SERVICES: readonly ServiceName[] = ['orchestrator', 'agent-pool', 'projection', 'optimizer', 'scaler', 'notification'];
const EXAMPLES = process.env.FLOTILLA_FUZZ_EXAMPLES ?? '15';
const AUTHENTICATED_CHECKS = ['not_a_server_error', 'status_code_conformance', 'response_schema_conformance', 'positive_data_acceptance', 'refusals_carry_their_reason'];
const ANONYMOUS_CHECKS = ['not_a_server_error', 'status_code_conformance', 'response_schema_conformance', 'unauthenticated_answers_401'];

interface Run {
  readonly code: number;
  readonly output: string;
  readonly seconds: number;
}

/** Runs test/fuzz/schemathesis with the project's settings; never rejects (the exit code says how it went). */
function schemathesis(args: readonly string[], timeoutMs = 240_000): Promise<Run> {
  const startedAt = Date.now();
  fs.mkdirSync(RESULTS, { recursive: true });
  return new Promise((resolve) => {
    execFile(
      path.join(FUZZ, 'schemathesis'),
      [...args],
      { cwd: RESULTS, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, SCHEMATHESIS_HOOKS: path.join(FUZZ, 'hooks.py'), NO_COLOR: '1', PYTHONDONTWRITEBYTECODE: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}${error && typeof error.code !== 'number' ? `\n${error.message}` : ''}`, seconds: (Date.now() - startedAt) / 1000 });
      },
    );
  });
}

/** The failures, the warnings and the summary of a report: where a reader starts. */
function report(run: Run): string {
  const start = run.output.search(/^=+ (FAILURES|ERRORS) =+$/m);
  const text = start >= 0 ? run.output.slice(start) : run.output;
  return text.length > 30_000 ? `${text.slice(0, 15_000)}\n…\n${text.slice(-15_000)}` : text;
}

describe('OpenAPI documents: a property-based fuzz of every service', () => {
  let flotilla: Flotilla<ServiceName>;
  let database: Pool;
  let ops = '';
  let acme = '';

  beforeAll(async () => {
    ops = await signToken({ role: 'ops', sub: 'fuzz-ops' });
    acme = await signToken({ role: 'customer', customerId: 'acme', sub: 'fuzz-acme' });
    database = testPool(1);
    // The first run on a machine installs the tool (about half a minute) while the services start.
    const [started, install] = await Promise.all([
      startFlotilla({
        namespacePrefix: 'fuzz',
        services: SERVICES,
        executors: { default: { type: 'synthetic' } },
        // The rate limit would answer most of the fuzz with 429 (documented, but then nothing else is tested).
        // The GitHub route answers 404 without a secret; with one, an unsigned request is the 401 the anonymous run expects.
        settings: { all: { RATE_LIMIT_PER_SECOND: '100000', SYNTHETIC_MIN_DURATION_MS: '1', SYNTHETIC_MAX_DURATION_MS: '20' }, notification: { GITHUB_WEBHOOK_SECRET: 'fuzz-github-secret' } },
      }),
      schemathesis(['install'], 600_000),
    ]);
    flotilla = started;
    if (install.code !== 0) throw new Error(`installing Schemathesis failed:\n${install.output}`);
  });

  afterAll(async () => {
    await flotilla?.stop();
    await database?.end();
  });

  const fuzz = (service: ServiceName, mode: 'authenticated' | 'anonymous') =>
    schemathesis([
      '--config-file',
      path.join(FUZZ, 'schemathesis.toml'),
      'run',
      `${flotilla.url(service)}/openapi.json`,
      '--checks',
      (mode === 'authenticated' ? AUTHENTICATED_CHECKS : ANONYMOUS_CHECKS).join(','),
      '--max-examples',
      mode === 'authenticated' ? EXAMPLES : '10',
      ...(process.env.FLOTILLA_FUZZ_SEED ? ['--seed', process.env.FLOTILLA_FUZZ_SEED] : []),
      // Without a token every request ends at the guard: a few random ones per operation say as much as many.
      ...(mode === 'authenticated' ? ['--header', `Authorization: Bearer ${ops}`] : ['--mode', 'positive', '--phases', 'fuzzing']),
      ...(mode === 'authenticated' && service === 'projection' ? ['--exclude-path', '/v1/stream'] : []),
      '--report',
      'junit',
      '--report-junit-path',
      path.join(RESULTS, `${service}-${mode}.xml`),
    ]);

  const expectClean = (service: ServiceName, mode: string, run: Run) => {
    process.stdout.write(`schemathesis ${service} ${mode}: ${/\d+ generated[^\n]*/.exec(run.output)?.[0] ?? '?'} in ${run.seconds.toFixed(1)} s\n`);
    if (run.code !== 0) throw new Error(`Schemathesis found problems in the ${service} API (${mode}, exit ${run.code}; service log: test-results/${flotilla.namespace}-${service}.log):\n\n${report(run)}`);
  };

  /** Waits until no event has waited in the service's outbox for more than a few seconds. */
  const outboxFlows = async (service: ServiceName) => {
    const outbox = `${flotilla.schema(service)}.outbox`;
    if ((await database.query('SELECT to_regclass($1) AS found', [outbox])).rows[0].found === null) return;
    await waitFor(
      `the ${service} outbox to hold nothing older than 5 s`,
      async () => {
        const { rows } = await database.query(`SELECT event_type, payload FROM ${outbox} WHERE created_at < now() - interval '5 seconds' ORDER BY id LIMIT 1`);
        if (rows.length > 0) throw new Error(`stuck: ${rows[0].event_type} ${JSON.stringify(rows[0].payload).slice(0, 500)}`);
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
  };

  it.each(SERVICES)('%s: with an ops token, no 5xx, no undocumented status or body, no schema-valid request refused', async (service) => {
    expectClean(service, 'authenticated', await fuzz(service, 'authenticated'));
    await outboxFlows(service);
  });

  it.each(SERVICES)('%s: without a token, every operation answers its documented 401', async (service) => {
    expectClean(service, 'anonymous', await fuzz(service, 'anonymous'));
  });

  it.each(SERVICES)('%s: serves its document and Swagger UI', async (service) => {
    const document = (await (await fetch(`${flotilla.url(service)}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
    const ui = await fetch(`${flotilla.url(service)}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });

  it('refuses NUL wherever PostgreSQL would refuse it, also where OpenAPI 3.0 cannot say so (the fuzz leaves NUL out)', async () => {
    const submit = (body: object) =>
      fetch(`${flotilla.url('orchestrator')}/v1/executions`, { method: 'POST', headers: { authorization: `Bearer ${ops}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const task = (input: Record<string, string>) => ({ executionId: `nul-${Date.now()}`, customerId: 'acme', kind: 'custom', tasks: [{ taskId: 't', agentType: 'code_gen', input }] });
    for (const [body, field] of [
      [task({ 'a\u0000b': 'x' }), 'tasks.0.input.a\u0000b'],
      [task({ a: 'x\u0000' }), 'tasks.0.input.a'],
      [{ ...task({}), customerId: 'a\u0000' }, 'customerId'],
    ] as const) {
      const response = await submit(body);
      expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', problems: [{ field, problem: 'must not contain NUL (U+0000)' }] } });
    }
    const read = await fetch(`${flotilla.url('projection')}/v1/executions?kind=a%00b`, { headers: { authorization: `Bearer ${ops}` } });
    expect(read.status).toBe(400);
  });

  it('the stream, left out of the fuzz, answers only statuses its document states', async () => {
    const document = (await (await fetch(`${flotilla.url('projection')}/openapi.json`)).json()) as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
    const documented = Object.keys(document.paths['/v1/stream'].get.responses);
    const status = async (query: string, bearer: string | null = ops) => {
      const controller = new AbortController();
      const response = await fetch(`${flotilla.url('projection')}/v1/stream${query}`, { signal: controller.signal, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
      controller.abort(); // a 200 is a stream that would not end
      return String(response.status);
    };
    const cases: [string, string, string | null][] = [
      ['?kinds=execution,bogus', '400', ops],
      ['?kinds=execution&kinds=alert', '400', ops],
      ['?colour=blue', '400', ops],
      ['?customerId=a%00b', '400', ops],
      ['?customerId=globex', '403', acme],
      ['', '401', null],
      ['?access_token=not-a-token', '401', null],
      ['?kinds=execution,%20alert', '200', ops],
    ];
    for (const [query, expected, bearer] of cases) {
      expect({ query, status: await status(query, bearer) }).toEqual({ query, status: expected });
      expect(documented).toContain(expected);
    }
  });
});
