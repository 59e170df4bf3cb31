import { currentTraceContext, inSpan } from '@flotilla/observability';
import { v7 as uuidv7 } from 'uuid';
import type { Decider, DomainEvent } from '@flotilla/domain';
import { isConcurrencyError } from './errors';
import type { PoolClient } from 'pg';
import type { NewEvent, OutboxMessage, PostgresEventStore } from './event-store';

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
 * The one command handler (after Emmett's handleCommand): load the stream, fold it with `evolve`,
 * `decide`, then in one transaction record the inbox entry, append with the expected version and
 * queue the outbox rows. Retries only on a version conflict, a bounded number of times.
 */
export async function handleCommand<Command, Event extends DomainEvent, State>(
  options: HandleCommandOptions<Command, Event, State>,
): Promise<CommandResult<Event, State>> {
  const { store, decider, streamId, command, route, inbox } = options;
  const now = options.now ?? Date.now;
  const newEventId = options.newEventId ?? (() => uuidv7());
  const maxRetries = options.maxConflictRetries ?? 5;

  return inSpan('command.handle', { attributes: { 'flotilla.stream_id': streamId, 'flotilla.correlation_id': options.correlationId } }, async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await store.withTransaction(async (client) => {
          if (inbox && !(await store.recordInbox(client, inbox.consumer, inbox.eventId))) return { status: 'duplicate' as const };
          const { version, events: history } = await store.readStream<Event['data']>(streamId, client);
          let state = decider.initialState;
          for (const stored of history) state = decider.evolve(state, { type: stored.eventType, data: stored.data } as Event);
          const events = decider.decide(command, state);
          const applied: { event: Event; stateAfter: State }[] = [];
          for (const event of events) {
            state = decider.evolve(state, event);
            applied.push({ event, stateAfter: state });
          }
          if (events.length === 0) return { status: 'applied' as const, events, state, version };

          const occurredAt = now();
          const trace = currentTraceContext();
          const stored: NewEvent[] = events.map((event) => ({
            eventId: newEventId(),
            eventType: event.type,
            data: event.data,
            metadata: { occurredAt, correlationId: options.correlationId, causationId: options.causationId ?? null, ...trace },
          }));
          const nextVersion = await inSpan('eventStore.append', { attributes: { 'flotilla.events': events.length } }, () =>
            store.appendToStream(client, streamId, version, stored),
          );
          const outbox: OutboxMessage[] = stored.flatMap((s, i) =>
            route(events[i]).map((destination) => ({
              topic: destination.topic,
              key: destination.key,
              eventId: s.eventId,
              eventType: s.eventType,
              payload: s.data,
              metadata: { ...s.metadata, aggregateId: streamId, aggregateVersion: version + i + 1 },
            })),
          );
          await store.enqueue(client, outbox);
          await options.withinTransaction?.(client, applied);
          return { status: 'applied' as const, events, state, version: nextVersion };
        });
      } catch (error) {
        if (!isConcurrencyError(error) || attempt >= maxRetries) throw error;
      }
    }
  });
}
