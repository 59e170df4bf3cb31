import type { Decider } from '../src';

/** A minimal aggregate for the event-store tests: a counter that counts up. */
export type CounterEvent = { readonly type: 'flotilla.test.Incremented'; readonly data: { readonly counterId: string; readonly value: number } };
export type CounterCommand = { readonly type: 'Increment'; readonly counterId: string; readonly times?: number };
export type CounterState = { readonly value: number };

export const counterDecider: Decider<CounterCommand, CounterEvent, CounterState> = {
  initialState: { value: 0 },
  decide: (command, state) =>
    Array.from({ length: command.times ?? 1 }, (_, i) => ({ type: 'flotilla.test.Incremented' as const, data: { counterId: command.counterId, value: state.value + i + 1 } })),
  evolve: (_state, event) => ({ value: event.data.value }),
};

export const COUNTER_SCHEMA = {
  type: 'record',
  name: 'Incremented',
  namespace: 'flotilla.test',
  fields: [
    { name: 'counterId', type: 'string' },
    { name: 'value', type: 'int' },
  ],
};
