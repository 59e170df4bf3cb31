import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as avro from 'avsc';
import { budgetIdOf, budgetScopeOf, EVENT_SCHEMAS, routeEvent, topicCatalogue, TOPICS, UnroutableEventError, type BudgetScope, type EventType } from './index';

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

describe('routing', () => {
  const sample = (type: EventType): Record<string, unknown> => ({ executionId: 'e-1', customerId: 'acme', agentType: 'code_gen', requestId: 'r-1', budgetId: 'customer:acme', repositoryId: 'repo-1', subscriptionId: 's-1', type });

  it.each(Object.keys(EVENT_SCHEMAS) as EventType[])('routes %s to a topic of the catalogue, keyed as that topic declares', (type) => {
    const route = routeEvent(type, sample(type) as never);
    expect(topicCatalogue()).toContainEqual(route.topic);
    expect(route.topic.carries).toContain(type);
    expect(route.key).toBe(sample(type)[route.topic.key] ?? route.topic.keyWhenAbsent);
  });

  it('sends a dispatch to its agent type topic, and refuses an unknown agent type', () => {
    expect(routeEvent('flotilla.task.TaskDispatched', sample('flotilla.task.TaskDispatched') as never).topic.name).toBe('flotilla.tasks.code_gen');
    expect(() => routeEvent('flotilla.task.TaskDispatched', { ...sample('flotilla.task.TaskDispatched'), agentType: 'astrology' } as never)).toThrow(UnroutableEventError);
  });

  it('keys an event without the topic key field by the topic default, and refuses a type no topic carries', () => {
    expect(routeEvent('flotilla.admission.AdmissionCapacityChanged', { requestId: 'r', previousCapacity: 1, capacity: 2, reason: '', changedAt: 0 }).key).toBe('global');
    expect(routeEvent('flotilla.alert.AlertRaised', { customerId: null } as never).key).toBe('platform');
    expect(() => routeEvent('flotilla.nothing.Unheard' as EventType, {} as never)).toThrow(UnroutableEventError);
  });

  it('carries each event type on one topic only', () => {
    const carried = topicCatalogue().filter((t) => !t.name.startsWith('flotilla.tasks.')).flatMap((t) => t.carries);
    expect(new Set(carried).size).toBe(carried.length);
  });
});

describe('budget ids', () => {
  it.each([
    ['customer:acme', { kind: 'customer', customerId: 'acme' }],
    ['customer:a:b', { kind: 'customer', customerId: 'a:b' }],
    ['pool:code_gen', { kind: 'pool', agentType: 'code_gen' }],
    ['global', { kind: 'global' }],
    ['customer:', null],
    ['team:x', null],
    ['', null],
  ])('%p names %p, and back', (budgetId, scope) => {
    expect(budgetScopeOf(budgetId)).toEqual(scope);
    if (scope) expect(budgetIdOf(scope as BudgetScope)).toBe(budgetId);
  });
});
