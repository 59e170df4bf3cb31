import { customerCard, phaseOf, systemOverview, timelineOf, type CustomerFacts } from './customer-card';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const facts = (overrides: Partial<CustomerFacts> = {}): CustomerFacts => ({
  customerId: 'acme',
  counts: { queued: 0, running: 1, completed: 9, failed: 1, cancelled: 0, rejected: 0 },
  lastActivityAt: NOW - 1_000,
  nearestDeadlineAt: NOW + 5 * DAY,
  activeSlaViolations: 0,
  activeTasks: [
    { agentType: 'req_analysis', status: 'completed' },
    { agentType: 'code_gen', status: 'running' },
    { agentType: 'testing', status: 'pending' },
    { agentType: 'deployment', status: 'pending' },
  ],
  circuit: 'closed',
  ...overrides,
});

describe('customer card', () => {
  it('shows the phase the active execution is in, with the share of finished tasks', () => {
    expect(customerCard(facts(), NOW)).toMatchObject({ phase: { name: 'code_gen', progressPct: 25 }, successRate: 0.9, health: { status: 'green' }, timeline: { status: 'on_time', daysRemaining: 5 } });
    expect(phaseOf(null)).toBeNull();
  });

  it('judges the timeline by the nearest deadline and broken SLAs', () => {
    expect(timelineOf(NOW - DAY / 2, 0, NOW)).toEqual({ status: 'delayed', daysRemaining: -0.5 });
    expect(timelineOf(NOW + DAY / 2, 0, NOW)).toEqual({ status: 'at_risk', daysRemaining: 0.5 });
    expect(timelineOf(null, 1, NOW)).toEqual({ status: 'at_risk', daysRemaining: null });
    expect(timelineOf(null, 0, NOW)).toEqual({ status: 'on_time', daysRemaining: null });
  });

  it('is red with an open circuit or when most executions fail, yellow when some do or an SLA is broken', () => {
    expect(customerCard(facts({ circuit: 'open' }), NOW).health).toEqual({ status: 'red', reason: 'circuit breaker open after repeated failures' });
    expect(customerCard(facts({ counts: { ...facts().counts, completed: 2, failed: 3 } }), NOW).health).toEqual({ status: 'red', reason: 'only 40 % of executions succeed' });
    expect(customerCard(facts({ counts: { ...facts().counts, completed: 7, failed: 3 } }), NOW).health.status).toBe('yellow');
    expect(customerCard(facts({ activeSlaViolations: 2 }), NOW).health).toEqual({ status: 'yellow', reason: '2 waiting execution(s) past the queue-time SLA' });
    // Too few finished executions to judge a rate by.
    expect(customerCard(facts({ counts: { ...facts().counts, completed: 0, failed: 2 } }), NOW).health.status).toBe('green');
  });
});

describe('system overview', () => {
  const base = { active: 3, queued: 2, capacity: 5, windowMinutes: 60, completedInWindow: 10, failedInWindow: 0, criticalAlerts24h: 0, criticalAlerts15m: 0, customers: 4 };
  it('reports utilization and success over the window', () => {
    expect(systemOverview(base, NOW)).toMatchObject({ utilization: 0.6, successRate: { rate: 1, completed: 10, failed: 0 }, health: { status: 'green' } });
  });
  it('turns red on a recent critical alert and yellow when the queue outgrows capacity', () => {
    expect(systemOverview({ ...base, criticalAlerts15m: 1, criticalAlerts24h: 1 }, NOW).health.status).toBe('red');
    expect(systemOverview({ ...base, queued: 9 }, NOW).health).toEqual({ status: 'yellow', reason: '9 queued for 5 slots' });
  });
});
