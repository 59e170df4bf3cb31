import { ESLint } from 'eslint';
import * as path from 'node:path';

/**
 * Proves the boundary rules bite, in both directions: domain code imports no framework, client,
 * clock or outer layer; application code (a feature's top-level files) imports no infrastructure.
 */
describe('architecture lint rules', () => {
  // The project's own flat config, passed in directly (Jest cannot run ESLint's dynamic config import).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const eslint = new ESLint({ cwd: path.resolve(__dirname, '..'), overrideConfigFile: true, overrideConfig: require('../eslint.config.js') });
  const feature = path.resolve(__dirname, '../services/orchestrator/src/execution');
  const lint = async (relativePath: string, lines: string[]) => {
    const [result] = await eslint.lintText([...lines, ''].join('\n'), { filePath: path.join(feature, relativePath) });
    return result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('refuse framework and client imports, and the clock, in domain code', async () => {
    const messages = await lint('domain/lint-probe.ts', [
      "import { Injectable } from '@nestjs/common';",
      "import { Kafka } from 'kafkajs';",
      "import { Pool } from 'pg';",
      'export const probe = [Injectable, Kafka, Pool, Date.now()];',
    ]);
    expect(messages.filter((m) => /no framework, broker, database/.test(m))).toHaveLength(3);
    expect(messages).toContainEqual(expect.stringMatching(/no-restricted-syntax: Pass the time in/));
  }, 60_000);

  it('refuse imports of the outer layers in domain code, but allow other domain code', async () => {
    const messages = await lint('domain/lint-probe.ts', [
      "import { PostgresTimerStore } from '../infrastructure/timer-store';",
      "import { ExecutionCommands } from '../execution-commands';",
      "import { basePriority } from '../../admission/domain/priority';",
      'export const probe = [PostgresTimerStore, ExecutionCommands, basePriority];',
    ]);
    expect(messages).toContainEqual(expect.stringMatching(/'\.\.\/infrastructure\/timer-store' import is restricted/));
    expect(messages).toContainEqual(expect.stringMatching(/'\.\.\/execution-commands' import is restricted.*Domain code imports only domain code/));
    expect(messages.filter((m) => m.includes('admission/domain/priority'))).toEqual([]);
  }, 60_000);

  it('refuse infrastructure and database clients in application code', async () => {
    const messages = await lint('lint-probe.ts', [
      "import { PostgresTimerStore } from './infrastructure/timer-store';",
      "import { PostgresAdmissionStore } from '../admission/infrastructure/admission-store';",
      "import { Pool } from 'pg';",
      "import type { TimerStore } from './ports';",
      'export const probe: unknown[] = [PostgresTimerStore, PostgresAdmissionStore, Pool, {} as TimerStore];',
    ]);
    expect(messages).toHaveLength(3);
    expect(messages.slice(0, 2)).toEqual([expect.stringMatching(/declare a port here/), expect.stringMatching(/declare a port here/)]);
    expect(messages[2]).toMatch(/does not talk to databases, brokers or clusters directly/);
  }, 60_000);

  it('accept infrastructure code using clients and the clock', async () => {
    expect(await lint('infrastructure/lint-probe.ts', ["import { Kafka } from 'kafkajs';", "import { Pool } from 'pg';", 'export const probe = [Kafka, Pool, Date.now()];'])).toEqual([]);
  }, 60_000);
});
