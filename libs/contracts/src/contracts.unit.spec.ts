import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as avro from 'avsc';
import { EVENT_SCHEMAS, topicCatalogue, TOPICS } from './index';

describe('contracts', () => {
  it('generated types and schemas match schemas/*.avsc', () => {
    const script = path.resolve(__dirname, '../../../scripts/generate-contracts.js');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('registers every event schema self-contained, under its Avro full name', () => {
    for (const [type, schema] of Object.entries(EVENT_SCHEMAS)) {
      const s = schema as { namespace: string; name: string };
      expect(`${s.namespace}.${s.name}`).toBe(type);
      // Parsing alone, with no other schema in scope, proves the schema is self-contained.
      expect(() => avro.Type.forSchema(schema as avro.Schema)).not.toThrow();
    }
    expect(Object.keys(EVENT_SCHEMAS)).toContain('flotilla.execution.ExecutionRequested');
    expect(Object.keys(EVENT_SCHEMAS)).not.toContain('flotilla.execution.TaskSpec');
  });

  it('declares each topic once, with a task topic per agent type', () => {
    const names = topicCatalogue().map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('flotilla.tasks.code_gen');
    expect(TOPICS.executions.retentionMs).toBe(7 * 24 * 3600 * 1000);
  });
});
