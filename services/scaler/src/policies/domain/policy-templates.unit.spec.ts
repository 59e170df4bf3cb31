import { weightedScore } from '../../decisions/domain/weighted-score';
import { snapshotOf } from '../../decisions/domain/snapshot.fixture';
import { POLICY_TEMPLATES, TEMPLATE_NAMES, policyFromTemplate, type TemplateName } from './policy-templates';
import type { ScalingPolicy } from './scaling-policy';

function policy(name: TemplateName): ScalingPolicy {
  const result = policyFromTemplate(name, 'code_gen');
  if (!result.ok) throw new Error(`${name}: ${JSON.stringify(result.problems)}`);
  return result.policy;
}

/** Four busy workers: slots 85 % busy, 6 tasks waiting per worker, CPU 80 %, 2 % errors, p95 2.5 s, 10 GiB resident. */
const busy = snapshotOf({
  reportingWorkers: 4,
  utilization: 0.85,
  backlog: 24,
  cpuPercentPerWorker: 80,
  errorRate: 0.02,
  latencyP95Ms: 2500,
  memoryMibPerWorker: 10_240,
});

describe('policy templates', () => {
  it('are the six of the seeds', () => {
    expect(TEMPLATE_NAMES).toEqual(['web-app-balanced', 'web-app-aggressive', 'api-performance', 'batch-cost-optimized', 'ml-gpu', 'dev-minimal']);
  });

  it.each([
    ['web-app-balanced', 0.7, 0.3],
    ['web-app-aggressive', 0.6, 0.4],
    ['api-performance', 0.6, 0.4],
    ['batch-cost-optimized', 0.8, 0.2],
    ['ml-gpu', 0.75, 0.25],
    ['dev-minimal', 0.9, 0.1],
  ] as const)('%s is a complete, valid weighted policy with the seeds\' thresholds %p / %p', (name, up, down) => {
    const p = policy(name);
    expect(p).toMatchObject({ agentType: 'code_gen', version: 1, combine: { mode: 'weighted', scaleUpThreshold: up, scaleDownThreshold: down } });
    expect(POLICY_TEMPLATES[name].purpose).not.toBe('');
  });

  it('keep their cooldowns within the seeds\' 2 to 15 minutes', () => {
    for (const name of TEMPLATE_NAMES) {
      const { scaleUpSeconds, scaleDownSeconds } = policy(name).cooldowns;
      expect([scaleUpSeconds, scaleDownSeconds].every((s) => s >= 120 && s <= 900)).toBe(true);
    }
  });

  it('scale to zero only where idle workers are pure cost (batch, dev)', () => {
    expect(TEMPLATE_NAMES.filter((name) => policy(name).minReplicas === 0)).toEqual(['batch-cost-optimized', 'dev-minimal']);
  });

  it('refuse an unknown agent type like any policy', () => {
    expect(policyFromTemplate('dev-minimal', 'fortune_telling')).toMatchObject({ ok: false, problems: [{ field: 'agentType' }] });
  });

  it.each([
    // balanced: (0.85 × 3 + 0.6 × 2 + 0.8 + 0.2) / 7
    ['web-app-balanced', 4.75 / 7, 'no_change', 4],
    // aggressive: (0.85 × 3 + 1 × 3 + 0.5) / 7; ⌈4 × 0.864 / 0.5⌉
    ['web-app-aggressive', 6.05 / 7, 'scale_up', 7],
    // api-performance: (0.5 × 3 + 0.85 × 2 + 0.2) / 6
    ['api-performance', 3.4 / 6, 'no_change', 4],
    // batch: (0.24 × 3 + 0.85 × 2) / 5
    ['batch-cost-optimized', 2.42 / 5, 'no_change', 4],
    // ml-gpu: (0.85 × 3 + 0.625 × 2 + 1 × 2) / 7; ⌈4 × 0.829 / 0.6⌉
    ['ml-gpu', 5.8 / 7, 'scale_up', 6],
    // dev-minimal: (0.85 + 0.6) / 2
    ['dev-minimal', 1.45 / 2, 'no_change', 4],
  ] as const)('%s scores the same busy pool %p: %s to %p', (name, expected, signal, replicas) => {
    const p = policy(name);
    if (p.combine.mode !== 'weighted') throw new Error('weighted templates only');
    const result = weightedScore(p.metrics, p.combine, busy, 4);
    expect(result.score).toBeCloseTo(expected, 10);
    expect(result).toMatchObject({ signal, replicas });
  });
});
