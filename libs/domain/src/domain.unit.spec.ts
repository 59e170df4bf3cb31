import { assertNever, ConcurrencyError, deciderSpec, IllegalStateError, NotFoundError, RetriesExhaustedError, ValidationError, type Decider, type DomainEvent } from './index';

type Incremented = DomainEvent<'Incremented', { by: number }>;
type Command = { type: 'IncrementTo'; target: number } | { type: 'Nudge' };
const counter: Decider<Command, Incremented, number> = {
  initialState: 0,
  decide: (command, state) => {
    switch (command.type) {
      case 'IncrementTo':
        return command.target > state ? [{ type: 'Incremented', data: { by: command.target - state } }] : [];
      case 'Nudge':
        return [{ type: 'Incremented', data: { by: 1 } }];
      default:
        return assertNever(command);
    }
  },
  evolve: (state, event) => state + event.data.by,
};

describe('decider spec', () => {
  const spec = deciderSpec(counter);

  it('given events, when a command, then the events it decides, and nothing more the second time', () => {
    spec.given({ type: 'Incremented', data: { by: 2 } }).when({ type: 'IncrementTo', target: 5 }).then([{ type: 'Incremented', data: { by: 3 } }]);
    spec.given({ type: 'Incremented', data: { by: 5 } }).when({ type: 'IncrementTo', target: 5 }).thenNothing();
  });

  it('fails a decision that is not idempotent, unless told it need not be', () => {
    expect(() => spec.given().when({ type: 'Nudge' }).then([{ type: 'Incremented', data: { by: 1 } }])).toThrow();
    expect(spec.given().when({ type: 'Nudge' }).then([{ type: 'Incremented', data: { by: 1 } }], { idempotent: false }).state).toBe(1);
  });

  it('fails when the decided events differ from the expected ones', () => {
    expect(() => spec.given().when({ type: 'IncrementTo', target: 1 }).then([])).toThrow();
  });
});

describe('errors', () => {
  it.each([
    [new ValidationError([{ field: 'capacity', problem: 'must be at least 1' }]), 'VALIDATION_FAILED', false, 'capacity: must be at least 1'],
    [new IllegalStateError('execution e-1 is completed'), 'ILLEGAL_STATE', false, 'execution e-1 is completed'],
    [new NotFoundError('execution', 'e-1'), 'NOT_FOUND', false, 'execution e-1 does not exist'],
    [new ConcurrencyError('stream moved on'), 'CONCURRENCY_CONFLICT', true, 'stream moved on'],
    [new RetriesExhaustedError(new Error('connection refused'), 3), 'RETRIES_EXHAUSTED', false, 'failed after 3 attempt(s): Error: connection refused'],
  ])('%s carries its code, whether it is retriable, and a message', (error, code, retriable, message) => {
    expect(error).toMatchObject({ code, retriable, message, name: error.constructor.name });
  });

  it('assertNever names what got through', () => {
    expect(() => assertNever('surprise' as never, 'event')).toThrow('unexpected event: "surprise"');
  });
});
