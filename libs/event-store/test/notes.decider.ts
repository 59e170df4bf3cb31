import type { Decider } from '../src';

/**
 * A minimal aggregate for the command batcher tests: a stream of numbered notes. `Note` appends
 * `times` events (one by default), whose text may be anything, even what PostgreSQL refuses to store
 * (a NUL character in jsonb); `Explode` makes `decide` throw, for a command that fails on its own.
 */
export type NoteEvent = { readonly type: 'flotilla.test.Noted'; readonly data: { readonly streamId: string; readonly value: number; readonly note: string } };
export type NoteCommand =
  | { readonly type: 'Note'; readonly streamId: string; readonly note: string; readonly times?: number }
  | { readonly type: 'Explode'; readonly message: string };
export type NoteState = { readonly value: number; readonly notes: readonly string[] };

export const notesDecider: Decider<NoteCommand, NoteEvent, NoteState> = {
  initialState: { value: 0, notes: [] },
  decide: (command, state) => {
    if (command.type === 'Explode') throw new Error(command.message);
    return Array.from({ length: command.times ?? 1 }, (_, i) => ({
      type: 'flotilla.test.Noted' as const,
      data: { streamId: command.streamId, value: state.value + i + 1, note: command.note },
    }));
  },
  evolve: (state, event) => ({ value: event.data.value, notes: [...state.notes, event.data.note] }),
};
