import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, fieldName, validatePolicy, type PolicyValidation } from './scaling-policy';

const minimal = { agentType: 'code_gen', maxReplicas: 5, metrics: [{ metric: 'utilization', target: 0.5 }] };

function problemsOf(result: PolicyValidation) {
  if (result.ok) throw new Error('expected problems, the policy was valid');
  return result.problems;
}

function policyOf(result: PolicyValidation) {
  if (!result.ok) throw new Error(`expected a valid policy: ${JSON.stringify(result.problems)}`);
  return result.policy;
}

describe('scaling policy validation', () => {
  it('fills Kubernetes\' defaults for everything a minimal policy leaves out', () => {
    expect(policyOf(validatePolicy(minimal, 3))).toEqual({
      agentType: 'code_gen',
      version: 3,
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [{ metric: 'utilization', target: 0.5, weight: 1, capacity: null }],
      combine: { mode: 'max' },
      tolerance: 0.1,
      behavior: { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN },
      cooldowns: { scaleUpSeconds: 0, scaleDownSeconds: 0 },
      queueAware: null,
      predictive: { mode: 'off', horizonSeconds: 900 },
    });
  });

  it('pins the defaults to autoscaling/v2: up 0 s, 100 % or 4 pods per 15 s, Max; down 300 s, 100 % per 15 s', () => {
    expect(DEFAULT_SCALE_UP).toEqual({
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
      tolerance: null,
    });
    expect(DEFAULT_SCALE_DOWN).toEqual({ stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], tolerance: null });
  });

  it('defaults each field of a direction on its own, as Kubernetes does', () => {
    const policy = policyOf(validatePolicy({ ...minimal, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } }));
    expect(policy.behavior.scaleDown).toEqual({ ...DEFAULT_SCALE_DOWN, stabilizationWindowSeconds: 60 });
    expect(policy.behavior.scaleUp).toEqual(DEFAULT_SCALE_UP);
  });

  it('lands a weighted policy midway between its thresholds unless it names a target score', () => {
    const weighted = { ...minimal, combine: { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3 } };
    expect(policyOf(validatePolicy(weighted)).combine).toEqual({ mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3, targetScore: 0.5 });
    expect(policyOf(validatePolicy({ ...weighted, combine: { ...weighted.combine, targetScore: 0.6 } })).combine).toMatchObject({ targetScore: 0.6 });
  });

  it('names every bad field at once, the schema\'s and the rules between fields alike', () => {
    const problems = problemsOf(
      validatePolicy({
        agentType: 'fortune_telling',
        minReplicas: 5,
        maxReplicas: 3,
        metrics: [{ metric: 'utilization', target: 2, weight: 0 }, { metric: 'cpu', target: -1 }, { metric: 'utilization', target: 0.5 }],
        combine: { mode: 'weighted', scaleUpThreshold: 0.3, scaleDownThreshold: 0.7 },
        behavior: {
          scaleUp: { selectPolicy: 'Min', policies: [] },
          scaleDown: { policies: [{ type: 'Percent', value: 150, periodSeconds: 15 }, { type: 'Pods', value: 0, periodSeconds: 4000 }] },
        },
        cooldowns: { scaleUpSeconds: -1 },
        colour: 'blue',
      }),
    );
    expect(problems.map((p) => p.field).sort()).toEqual(
      [
        'agentType',
        'metrics[1].target',
        'behavior.scaleDown.policies[1].value',
        'behavior.scaleDown.policies[1].periodSeconds',
        'cooldowns.scaleUpSeconds',
        'colour',
        'minReplicas',
        'metrics[0].target',
        'metrics[0].weight',
        'metrics[2].metric',
        'combine.scaleDownThreshold',
        'behavior.scaleUp.policies',
        'behavior.scaleDown.policies[0].value',
      ].sort(),
    );
    expect(problems).toContainEqual({ field: 'agentType', problem: expect.stringContaining('must be a known agent type') });
    expect(problems).toContainEqual({ field: 'colour', problem: "unknown field 'colour'" });
  });

  it.each([
    ['min above max', { minReplicas: 6 }, 'minReplicas', 'must not exceed maxReplicas (5), got 6'],
    ['a fraction above 1', { metrics: [{ metric: 'error_rate', target: 5 }] }, 'metrics[0].target', 'error_rate is a fraction: the target must be at most 1, got 5'],
    ['a metric twice', { metrics: [{ metric: 'cpu', target: 70 }, { metric: 'cpu', target: 80 }] }, 'metrics[1].metric', 'cpu is already listed at metrics[0]'],
    ['no metric and no queue-aware sizing', { metrics: [] }, 'metrics', 'name at least one metric, or enable queueAware'],
    [
      'a zero weight in weighted mode',
      { metrics: [{ metric: 'utilization', target: 0.5, weight: 0 }], combine: { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3 } },
      'metrics[0].weight',
      'must be above 0 in weighted mode',
    ],
    [
      'a weighted metric with no natural capacity',
      { metrics: [{ metric: 'memory', target: 512 }], combine: { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3 } },
      'metrics[0].capacity',
      'is required in weighted mode: memory has no natural full value (MiB resident per worker)',
    ],
    ['thresholds the wrong way round', { combine: { mode: 'weighted', scaleUpThreshold: 0.3, scaleDownThreshold: 0.3 } }, 'combine.scaleDownThreshold', 'must be below scaleUpThreshold (0.3), got 0.3'],
    [
      'a target score outside the band',
      { combine: { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3, targetScore: 0.8 } },
      'combine.targetScore',
      'must lie strictly between scaleDownThreshold (0.3) and scaleUpThreshold (0.7), got 0.8',
    ],
    ['a direction with no policy', { behavior: { scaleDown: { policies: [] } } }, 'behavior.scaleDown.policies', 'needs at least one policy unless selectPolicy is Disabled'],
    [
      'a scale-down of more than 100 %',
      { behavior: { scaleDown: { policies: [{ type: 'Percent', value: 101, periodSeconds: 15 }] } } },
      'behavior.scaleDown.policies[0].value',
      'a Percent scale-down policy removes at most 100 %, got 101',
    ],
    ['a period over 30 minutes', { behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 1801 }] } } }, 'behavior.scaleUp.policies[0].periodSeconds', 'Number must be less than or equal to 1800'],
    ['a window over an hour', { behavior: { scaleDown: { stabilizationWindowSeconds: 3601 } } }, 'behavior.scaleDown.stabilizationWindowSeconds', 'Number must be less than or equal to 3600'],
    ['an unknown combination', { combine: { mode: 'average' } }, 'combine.mode', "Invalid discriminator value. Expected 'max' | 'weighted'"],
  ])('refuses %s, naming the field', (_name, change, field, problem) => {
    expect(problemsOf(validatePolicy({ ...minimal, ...change }))).toEqual([{ field, problem }]);
  });

  it('allows a direction with no policy when it is Disabled', () => {
    expect(validatePolicy({ ...minimal, behavior: { scaleDown: { selectPolicy: 'Disabled', policies: [] } } }).ok).toBe(true);
  });

  describe('scaling to zero', () => {
    const toZero = { ...minimal, minReplicas: 0, metrics: [{ metric: 'backlog_per_worker', target: 5 }] };

    it('is allowed with a metric that sees demand when no worker runs, and Kubernetes\' default scale-up (4 pods)', () => {
      expect(policyOf(validatePolicy(toZero)).minReplicas).toBe(0);
    });

    it('needs such a metric: utilization alone cannot see a queue with no worker', () => {
      expect(problemsOf(validatePolicy({ ...toZero, metrics: [{ metric: 'utilization', target: 0.5 }] }))).toEqual([
        {
          field: 'minReplicas',
          problem: 'scaling to zero (0) needs a metric that sees demand with no worker (backlog_per_worker or arrival_rate), or queueAware with a defaultServiceTimeMs',
        },
      ]);
      expect(validatePolicy({ ...toZero, metrics: [{ metric: 'utilization', target: 0.5 }], queueAware: { targetWaitMs: 500, defaultServiceTimeMs: 2000 } }).ok).toBe(true);
    });

    it.each([
      ['Max', [{ type: 'Percent', value: 100, periodSeconds: 15 }], 'with minReplicas 0, scaling up from zero needs a Pods policy (a Percent of zero replicas is zero)'],
      [
        'Min',
        [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
        'with minReplicas 0, scaling up from zero needs only Pods policies under selectPolicy Min (a Percent of zero replicas is zero)',
      ],
    ])('needs a scale-up policy that can leave zero (selectPolicy %s)', (selectPolicy, policies, problem) => {
      expect(problemsOf(validatePolicy({ ...toZero, behavior: { scaleUp: { selectPolicy, policies } } }))).toEqual([{ field: 'behavior.scaleUp.policies', problem }]);
    });
  });

  it('names fields as paths with indexes', () => {
    expect(fieldName(['behavior', 'scaleDown', 'policies', 0, 'value'])).toBe('behavior.scaleDown.policies[0].value');
    expect(fieldName(['metrics', 1, 'target'])).toBe('metrics[1].target');
    expect(fieldName([])).toBe('(body)');
  });

  it('refuses what is not an object at all', () => {
    expect(problemsOf(validatePolicy(null))).toEqual([{ field: '(body)', problem: 'Expected object, received null' }]);
  });
});
