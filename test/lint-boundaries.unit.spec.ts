import { ESLint } from 'eslint';
import * as path from 'node:path';

/** Proves the boundary rules bite: a domain file importing infrastructure or reading the clock is an error. */
describe('architecture lint rules', () => {
  // The project's own flat config, passed in directly (Jest cannot run ESLint's dynamic config import).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const eslint = new ESLint({ cwd: path.resolve(__dirname, '..'), overrideConfigFile: true, overrideConfig: require('../eslint.config.js') });
  const domainFile = path.resolve(__dirname, '../services/orchestrator/src/domain/execution/lint-probe.ts');

  it('refuse infrastructure imports and the clock in domain code', async () => {
    const [result] = await eslint.lintText(
      ["import { Kafka } from 'kafkajs';", "import { Pool } from 'pg';", 'export const probe = [Kafka, Pool, Date.now()];', ''].join('\n'),
      { filePath: domainFile },
    );
    const messages = result.messages.map((m) => `${m.ruleId}: ${m.message}`);
    expect(messages.filter((m) => m.startsWith('no-restricted-imports'))).toHaveLength(2);
    expect(messages).toContainEqual(expect.stringMatching(/no-restricted-syntax: Pass the time in/));
  }, 60_000);

  it('accept the same code outside the domain folder', async () => {
    const [result] = await eslint.lintText(["import { Kafka } from 'kafkajs';", 'export const probe = [Kafka, Date.now()];', ''].join('\n'), {
      filePath: path.resolve(__dirname, '../services/orchestrator/src/infrastructure/lint-probe.ts'),
    });
    expect(result.messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')).toEqual([]);
  }, 60_000);
});
