import { canSend, DEFAULT_ENDPOINT_HEALTH_SETTINGS, endpointHealthSettingsProblems, healthyEndpoint, onFailure, onSuccess, reenabled, type EndpointHealth } from './endpoint-health';

const settings = { failureThreshold: 3, openForMs: 1_000, disableAfterFailingMs: 10_000 };

const closed = (consecutiveFailures: number, failingSince: number | null): EndpointHealth => ({ status: 'closed', consecutiveFailures, failingSince });
const open = (consecutiveFailures: number, failingSince: number, openedAt: number): EndpointHealth => ({ status: 'open', consecutiveFailures, failingSince, openedAt });
const halfOpen = (consecutiveFailures: number, failingSince: number, probeSentAt: number): EndpointHealth => ({ status: 'half_open', consecutiveFailures, failingSince, probeSentAt });
const disabled = (failingSince: number, disabledAt: number): EndpointHealth => ({ status: 'disabled', failingSince, disabledAt });

type Step = readonly ['send' | 'fail' | 'succeed', number];

/** Plays attempts and outcomes against the breaker, storing each new state as a caller would. */
function play(steps: readonly Step[], from: EndpointHealth = healthyEndpoint) {
  let state = from;
  const outcomes = steps.map(([what, now]) => {
    const outcome = what === 'send' ? canSend(state, now, settings) : what === 'fail' ? onFailure(state, now, settings) : onSuccess(state, now);
    if ('state' in outcome) state = outcome.state;
    return outcome.kind;
  });
  return { outcomes, state };
}

describe('endpoint health', () => {
  it('defaults to 5 failures, 30 s open, disabled after 5 days of failing', () => {
    expect(DEFAULT_ENDPOINT_HEALTH_SETTINGS).toEqual({ failureThreshold: 5, openForMs: 30_000, disableAfterFailingMs: 432_000_000 });
    expect(endpointHealthSettingsProblems(DEFAULT_ENDPOINT_HEALTH_SETTINGS)).toEqual([]);
  });

  it('names each bad setting', () => {
    expect(endpointHealthSettingsProblems({ failureThreshold: 0, openForMs: 1.5, disableAfterFailingMs: -1 })).toEqual([
      { field: 'failureThreshold', problem: 'must be a whole number of at least 1, got 0' },
      { field: 'openForMs', problem: 'must be a whole number of at least 1, got 1.5' },
      { field: 'disableAfterFailingMs', problem: 'must be a whole number of at least 1, got -1' },
    ]);
  });

  it.each([
    ['the first failure starts the run', healthyEndpoint, 100, { kind: 'failing', state: closed(1, 100) }],
    ['a later failure keeps when the run started', closed(1, 50), 100, { kind: 'failing', state: closed(2, 50) }],
    ['the failure that reaches the threshold opens', closed(2, 50), 100, { kind: 'opened', state: open(3, 50, 100) }],
    ['a late failure while open is counted, the probe not postponed', open(3, 50, 100), 150, { kind: 'failing', state: open(4, 50, 100) }],
    ['a failed probe opens again', halfOpen(3, 50, 1_100), 1_200, { kind: 'opened', state: open(4, 50, 1_200) }],
    ['failing exactly as long as allowed is not yet too long', halfOpen(9, 0, 9_500), 10_000, { kind: 'opened', state: open(10, 0, 10_000) }],
    ['failing longer than allowed disables (half-open)', halfOpen(9, 0, 9_500), 10_001, { kind: 'disable', state: disabled(0, 10_001), failingSince: 0, failedForMs: 10_001 }],
    ['failing longer than allowed disables (closed, below threshold)', closed(1, 0), 10_001, { kind: 'disable', state: disabled(0, 10_001), failingSince: 0, failedForMs: 10_001 }],
    ['failing longer than allowed disables (open)', open(3, 0, 9_900), 10_500, { kind: 'disable', state: disabled(0, 10_500), failingSince: 0, failedForMs: 10_500 }],
    ['a disabled endpoint stays disabled', disabled(0, 10_001), 20_000, { kind: 'disabled' }],
  ])('on failure: %s', (_case, state, now, outcome) => {
    expect(onFailure(state, now, settings)).toEqual(outcome);
  });

  it.each([
    ['closed sends', closed(2, 50), 100, { kind: 'send', probe: false, state: closed(2, 50) }],
    ['open refuses until openForMs has passed', open(3, 50, 100), 1_099, { kind: 'wait', untilMs: 1_100 }],
    ['open admits one probe after openForMs and turns half-open', open(3, 50, 100), 1_100, { kind: 'send', probe: true, state: halfOpen(3, 50, 1_100) }],
    ['half-open refuses while its probe is out', halfOpen(3, 50, 1_100), 1_500, { kind: 'wait', untilMs: 2_100 }],
    ['half-open sends a new probe when the last one never reported', halfOpen(3, 50, 1_100), 2_100, { kind: 'send', probe: true, state: halfOpen(3, 50, 2_100) }],
    ['disabled never sends', disabled(0, 10_001), 50_000, { kind: 'disabled' }],
  ])('can send: %s', (_case, state, now, decision) => {
    expect(canSend(state, now, settings)).toEqual(decision);
  });

  it.each([
    ['a success while closed clears the count and the run', closed(2, 50), 100, { kind: 'healthy', state: healthyEndpoint }],
    ['a successful probe closes the circuit', halfOpen(3, 50, 1_100), 1_300, { kind: 'recovered', state: healthyEndpoint, failedForMs: 1_250 }],
    ['a late success while open proves the endpoint answers', open(3, 50, 100), 200, { kind: 'recovered', state: healthyEndpoint, failedForMs: 150 }],
    ['a success after disabling does not re-enable', disabled(0, 10_001), 10_002, { kind: 'disabled' }],
  ])('on success: %s', (_case, state, now, outcome) => {
    expect(onSuccess(state, now)).toEqual(outcome);
  });

  it('admits exactly one probe: the second caller waits', () => {
    const { outcomes } = play([['fail', 0], ['fail', 10], ['fail', 20], ['send', 1_020], ['send', 1_021]]);
    expect(outcomes).toEqual(['failing', 'failing', 'opened', 'send', 'wait']);
  });

  it('disables an endpoint that fails every probe for longer than allowed, and only an operator brings it back', () => {
    const probes: Step[] = [];
    for (let at = 1_020; at <= 11_020; at += 2_000) probes.push(['send', at], ['fail', at + 500]);
    const { outcomes, state } = play([['fail', 0], ['fail', 10], ['fail', 20], ...probes, ['send', 12_000], ['succeed', 12_100]]);
    expect(outcomes).toEqual([
      'failing', 'failing', 'opened',
      'send', 'opened', 'send', 'opened', 'send', 'opened', 'send', 'opened', 'send', 'opened',
      'send', 'disable', // the probe at 11 020 fails at 11 520: failing for 11.52 s > 10 s
      'disabled', 'disabled',
    ]);
    expect(state).toEqual(disabled(0, 11_520));
    expect(canSend(reenabled(), 12_200, settings)).toEqual({ kind: 'send', probe: false, state: healthyEndpoint });
  });

  it('a recovery resets failingSince, so failures before it do not count toward disabling', () => {
    const { outcomes, state } = play([
      ['fail', 0], ['fail', 10], ['fail', 20], ['send', 1_020], ['succeed', 1_100],
      ['fail', 9_000], ['fail', 10_500], ['fail', 18_900],
    ]);
    expect(outcomes).toEqual(['failing', 'failing', 'opened', 'send', 'recovered', 'failing', 'failing', 'opened']);
    expect(state).toEqual(open(3, 9_000, 18_900));
    expect(onFailure(state, 19_001, settings)).toMatchObject({ kind: 'disable', failingSince: 9_000, failedForMs: 10_001 });
  });
});
