import { filterProblems, matchesFilter, type FilterableEvent, type SubscriptionFilter } from './subscription-filter';

const filter = (overrides: Partial<SubscriptionFilter>): SubscriptionFilter => ({ eventTypes: [], severities: [], executionKinds: [], ...overrides });

const completed = (executionKind: string | null): FilterableEvent => ({ type: 'flotilla.execution.ExecutionCompleted', severity: null, executionKind });
const alert = (severity: string | null): FilterableEvent => ({ type: 'flotilla.alert.AlertRaised', severity, executionKind: null });
const thresholdCrossed: FilterableEvent = { type: 'flotilla.budget.BudgetThresholdCrossed', severity: null, executionKind: null };

// What someone who wants "every execution event and the critical alerts" writes.
const executionsAndCriticalAlerts = filter({ eventTypes: ['flotilla.execution.*', 'flotilla.alert.AlertRaised'], severities: ['critical'] });

const deliverableTypes = [
  'flotilla.execution.ExecutionAccepted',
  'flotilla.execution.ExecutionCompleted',
  'flotilla.execution.ExecutionFailed',
  'flotilla.alert.AlertRaised',
  'flotilla.budget.BudgetThresholdCrossed',
];

describe('subscription filter', () => {
  it.each<[string, SubscriptionFilter, FilterableEvent, boolean]>([
    ['an empty filter lets everything through', filter({}), thresholdCrossed, true],
    ['an empty filter lets an alert of any severity through', filter({}), alert('info'), true],
    ['an empty filter lets an execution of unknown kind through', filter({}), completed(null), true],
    ['an exact type matches', filter({ eventTypes: ['flotilla.execution.ExecutionCompleted'] }), completed('review'), true],
    ['an exact type does not match another', filter({ eventTypes: ['flotilla.execution.ExecutionFailed'] }), completed('review'), false],
    ['an exact type is not a prefix', filter({ eventTypes: ['flotilla.execution.Execution'] }), completed('review'), false],
    ['one of several types is enough', filter({ eventTypes: ['flotilla.alert.AlertRaised', 'flotilla.execution.ExecutionCompleted'] }), completed(null), true],
    ['a family matches its members', filter({ eventTypes: ['flotilla.execution.*'] }), completed('review'), true],
    ['a family does not match another family', filter({ eventTypes: ['flotilla.execution.*'] }), alert('critical'), false],
    ['a family is cut at a dot, not in a word', filter({ eventTypes: ['flotilla.exec.*'] }), completed('review'), false],
    ['a severity condition passes an alert of that severity', filter({ severities: ['critical'] }), alert('critical'), true],
    ['a severity condition stops an alert of another severity', filter({ severities: ['critical'] }), alert('warning'), false],
    ['a severity condition stops an alert with no severity', filter({ severities: ['critical'] }), alert(null), false],
    ['a severity condition does not apply to execution events', filter({ severities: ['critical'] }), completed('review'), true],
    ['a severity condition does not apply to other events', filter({ severities: ['critical'] }), thresholdCrossed, true],
    ['a severity condition applies on top of the type', filter({ eventTypes: ['flotilla.alert.AlertRaised'], severities: ['warning', 'critical'] }), alert('warning'), true],
    ['a kind condition passes an execution event of that kind', filter({ executionKinds: ['review'] }), completed('review'), true],
    ['a kind condition stops an execution event of another kind', filter({ executionKinds: ['review'] }), completed('code_gen'), false],
    ['a kind condition stops an execution event whose kind is not known', filter({ executionKinds: ['review'] }), completed(null), false],
    ['a kind condition does not apply to alerts', filter({ executionKinds: ['review'] }), alert('info'), true],
    ['a kind condition does not apply to other events', filter({ executionKinds: ['review'] }), thresholdCrossed, true],
    ['every execution event and the critical alerts: an execution', executionsAndCriticalAlerts, completed(null), true],
    ['every execution event and the critical alerts: a critical alert', executionsAndCriticalAlerts, alert('critical'), true],
    ['every execution event and the critical alerts: a warning', executionsAndCriticalAlerts, alert('warning'), false],
    ['every execution event and the critical alerts: a budget event', executionsAndCriticalAlerts, thresholdCrossed, false],
  ])('%s', (_case, subscription, event, matches) => {
    expect(matchesFilter(subscription, event)).toBe(matches);
  });

  describe('problems', () => {
    it.each<[string, SubscriptionFilter]>([
      ['an empty filter', filter({})],
      ['exact types that can be delivered', filter({ eventTypes: ['flotilla.execution.ExecutionCompleted', 'flotilla.alert.AlertRaised'] })],
      ['a family with members', filter({ eventTypes: ['flotilla.execution.*', 'flotilla.*'] })],
      ['every severity', filter({ severities: ['info', 'warning', 'critical'] })],
      ['any non-empty kind', filter({ executionKinds: ['review', 'some_kind_of_the_future'] })],
    ])('finds none in %s', (_case, subscription) => {
      expect(filterProblems(subscription, deliverableTypes)).toEqual([]);
    });

    it('names each problem by its field and place', () => {
      const subscription = filter({
        eventTypes: ['flotilla.execution.ExecutionCompleted', 'flotilla.execution.Nope', 'flotilla.nothing.*', 'flotilla.execution'],
        severities: ['critical', 'fatal', 'Critical'],
        executionKinds: ['review', '', '  '],
      });
      expect(filterProblems(subscription, deliverableTypes)).toEqual([
        { field: 'filter.eventTypes[1]', problem: 'matches no event that can be delivered (flotilla.execution.Nope); see GET /v1/subscriptions/event-types' },
        { field: 'filter.eventTypes[2]', problem: 'matches no event that can be delivered (flotilla.nothing.*); see GET /v1/subscriptions/event-types' },
        { field: 'filter.eventTypes[3]', problem: 'matches no event that can be delivered (flotilla.execution); see GET /v1/subscriptions/event-types' },
        { field: 'filter.severities[1]', problem: 'must be one of info, warning, critical' },
        { field: 'filter.severities[2]', problem: 'must be one of info, warning, critical' },
        { field: 'filter.executionKinds[1]', problem: 'must not be empty' },
        { field: 'filter.executionKinds[2]', problem: 'must not be empty' },
      ]);
    });

    it('puts the problems under the field it is given', () => {
      expect(filterProblems(filter({ eventTypes: ['flotilla.unknown.Thing'] }), deliverableTypes, 'changes.filter')).toEqual([
        { field: 'changes.filter.eventTypes[0]', problem: 'matches no event that can be delivered (flotilla.unknown.Thing); see GET /v1/subscriptions/event-types' },
      ]);
    });

    it('judges types against the deliverable ones it is given', () => {
      expect(filterProblems(filter({ eventTypes: ['flotilla.execution.*'] }), [])).toEqual([
        { field: 'filter.eventTypes[0]', problem: 'matches no event that can be delivered (flotilla.execution.*); see GET /v1/subscriptions/event-types' },
      ]);
    });
  });
});
