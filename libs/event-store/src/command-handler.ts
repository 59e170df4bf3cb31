import type { Decider, DomainEvent } from '@flotilla/domain';
import type { PoolClient } from 'pg';
import { CommandBatcher } from './command-batcher';
import type { PostgresEventStore } from './event-store';

export type { Decider, DomainEvent } from '@flotilla/domain';

export interface Destination {
  readonly topic: string;
  readonly key: string;
}

export interface HandleCommandOptions<Command, Event extends DomainEvent, State> {
  readonly store: PostgresEventStore;
  readonly decider: Decider<Command, Event, State>;
  readonly streamId: string;
  readonly command: Command;
  /** Where each event is published; an event may go to several topics, or none. */
  readonly route: (event: Event) => readonly Destination[];
  readonly correlationId: string;
  readonly causationId?: string | null;
  /** When the command comes from a consumed event: recorded in the same transaction, so a redelivery changes nothing. */
  readonly inbox?: { readonly consumer: string; readonly eventId: string };
  readonly now?: () => number;
  readonly newEventId?: () => string;
  readonly maxConflictRetries?: number;
  /**
   * Runs in the same transaction after the append, with each new event and the state it led to: for
   * rows that must commit together with the events (durable timers, lookups).
   */
  readonly withinTransaction?: (client: PoolClient, applied: ReadonlyArray<{ readonly event: Event; readonly stateAfter: State }>) => Promise<void>;
}

export type CommandResult<Event, State> =
  | { readonly status: 'applied'; readonly events: readonly Event[]; readonly state: State; readonly version: number }
  | { readonly status: 'duplicate' };

/**
 * One command on its own (after Emmett's handleCommand): a batch of one through the CommandBatcher,
 * so there is one way a command is decided and written. In one transaction it records the inbox
 * entry, loads the stream, decides, appends with the expected version and queues the outbox rows;
 * a version conflict is decided again, a bounded number of times.
 */
export function handleCommand<Command, Event extends DomainEvent, State>(options: HandleCommandOptions<Command, Event, State>): Promise<CommandResult<Event, State>> {
  const { withinTransaction } = options;
  const batcher = new CommandBatcher<Command, Event, State>({
    store: options.store,
    decider: options.decider,
    route: options.route,
    now: options.now,
    newEventId: options.newEventId,
    maxConflictRetries: options.maxConflictRetries,
    // Nothing is kept between calls: each one builds its own batcher.
    cachedStreams: 0,
    withinTransaction: withinTransaction && ((client, [command]) => withinTransaction(client, command.applied)),
  });
  return batcher.submit({ streamId: options.streamId, command: options.command, correlationId: options.correlationId, causationId: options.causationId, inbox: options.inbox });
}
