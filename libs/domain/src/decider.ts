/** A domain event: its type is the Avro record's full name, its data the record. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** Pure domain logic of one aggregate (STYLE.md): no I/O, no clock, no randomness. */
export interface Decider<Command, Event extends DomainEvent, State> {
  readonly initialState: State;
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
}

/** The state after `events`, from the decider's initial state. */
export function fold<Event extends DomainEvent, State>(decider: Pick<Decider<unknown, Event, State>, 'initialState' | 'evolve'>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState);
}

/**
 * Ends every switch over a union: the compiler refuses the call when a case is missing, so the next
 * event someone adds cannot be ignored silently; at runtime it names the value that got through.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new TypeError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
