import { fold, type Decider, type DomainEvent } from './decider';

/**
 * Given/when/then for deciders (after Emmett's DeciderSpecification), for unit specs:
 *
 *   const spec = deciderSpec(executionDecider);
 *   spec.given(...history).when(command).then(expectedEvents);
 *   spec.given(...history).when(command).thenNothing();
 *
 * `then` also checks that the decision is idempotent: deciding the same command again on the state
 * the new events lead to decides nothing more, which is what makes a redelivered command harmless.
 * Pass `{ idempotent: false }` for commands that legitimately act every time (a timer tick).
 */
export function deciderSpec<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
  return {
    given(...history: Event[]) {
      const state = fold(decider, history);
      return {
        state,
        when(command: Command) {
          const events = decider.decide(command, state);
          const after = events.reduce(decider.evolve, state);
          return {
            events,
            state: after,
            then(expected: readonly Event[] | ((events: readonly Event[], state: State) => void), { idempotent = true } = {}) {
              if (typeof expected === 'function') expected(events, after);
              else expect(events).toEqual(expected);
              if (idempotent) expect(decider.decide(command, after)).toEqual([]);
              return { events, state: after };
            },
            thenNothing() {
              expect(events).toEqual([]);
              return { events, state: after };
            },
          };
        },
      };
    },
  };
}
