import { customerOf, deliveryIdFor, filterable, webhookBody, type PlatformEvent } from './webhook-message';

const event = (type: string, payload: Record<string, unknown>): PlatformEvent => ({ eventId: 'ev-1', type, occurredAt: 1_700_000_000_000, payload });

describe('webhook message', () => {
  describe('delivery id', () => {
    it('is msg_ and 32 hex digits, with no dot to confuse the signed content', () => {
      const id = deliveryIdFor('ev-1', 'sub-1');
      expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(id).not.toContain('.');
    });

    it('is the same for the same event and subscription, whoever computes it, whenever', () => {
      expect(deliveryIdFor('ev-1', 'sub-1')).toBe(deliveryIdFor('ev-1', 'sub-1'));
      // UUID v5 of "ev-1/sub-1" in the delivery namespace, computed outside the service with node:crypto:
      // a change here changes every webhook-id, and receivers would take redeliveries for new messages.
      expect(deliveryIdFor('ev-1', 'sub-1')).toBe('msg_fcce4fbd38315e669eb07857ad853f6f');
    });

    it('differs per event and per subscription', () => {
      const ids = [deliveryIdFor('ev-1', 'sub-1'), deliveryIdFor('ev-2', 'sub-1'), deliveryIdFor('ev-1', 'sub-2'), deliveryIdFor('sub-1', 'ev-1')];
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('customer', () => {
    it.each<[string, Record<string, unknown>, string | null]>([
      ['its customerId', { customerId: 'acme', executionId: 'e-1' }, 'acme'],
      ['its customerId before its budget', { customerId: 'acme', budgetId: 'customer:globex' }, 'acme'],
      ['the customer of a customer budget', { budgetId: 'customer:acme' }, 'acme'],
      ['the customer of a customer budget when customerId is null', { customerId: null, budgetId: 'customer:acme' }, 'acme'],
      ['the customer of a customer budget when customerId is empty', { customerId: '', budgetId: 'customer:acme' }, 'acme'],
      ['the whole customer id of a budget, colons and all', { budgetId: 'customer:acme:eu' }, 'acme:eu'],
      ['nobody for a pool budget', { budgetId: 'pool:code_gen' }, null],
      ['nobody for the global budget', { budgetId: 'global' }, null],
      ['nobody for a budget id that names no scope', { budgetId: 'customer:' }, null],
      ['nobody for an empty customerId and no budget', { customerId: '' }, null],
      ['nobody for a customerId that is not a string', { customerId: 42 }, null],
      ['nobody for the platform\'s own events', { agentType: 'code_gen', workers: 3 }, null],
    ])('is %s', (_case, payload, customer) => {
      expect(customerOf(event('flotilla.any.Event', payload))).toBe(customer);
    });
  });

  it('sends the type, the time it happened and the data, as Standard Webhooks has it', () => {
    const payload = { executionId: 'e-1', customerId: 'acme', result: { ok: true, note: 'ünïcode' } };
    const body = webhookBody(event('flotilla.execution.ExecutionCompleted', payload));
    expect(body).toBe(
      '{"type":"flotilla.execution.ExecutionCompleted","timestamp":"2023-11-14T22:13:20.000Z",' +
        '"data":{"executionId":"e-1","customerId":"acme","result":{"ok":true,"note":"ünïcode"}}}',
    );
    expect(JSON.parse(body)).toEqual({ type: 'flotilla.execution.ExecutionCompleted', timestamp: '2023-11-14T22:13:20.000Z', data: payload });
    expect(webhookBody(event('flotilla.execution.ExecutionCompleted', payload))).toBe(body);
  });

  const ALERT = 'flotilla.alert.AlertRaised';
  // case, event type, payload, the execution's kind as looked up, the severity the filter sees.
  it.each<[string, string, Record<string, unknown>, string | null, string | null]>([
    ['an alert with its severity', ALERT, { severity: 'critical' }, null, 'critical'],
    ['an alert without a severity', ALERT, {}, null, null],
    ['an alert whose severity is not text', ALERT, { severity: 3 }, null, null],
    ['another event, whose severity field is not an alert\'s', 'flotilla.execution.SlaViolated', { severity: 'critical' }, 'review', null],
    ['an execution event of unknown kind', 'flotilla.execution.ExecutionCompleted', {}, null, null],
  ])('makes %s filterable', (_case, type, payload, executionKind, severity) => {
    expect(filterable(event(type, payload), executionKind)).toEqual({ type, severity, executionKind });
  });
});
