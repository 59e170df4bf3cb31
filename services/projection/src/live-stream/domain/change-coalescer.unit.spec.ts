import { ChangeCoalescer, visible } from './change-coalescer';
import type { ReadModelChange } from '../../read-models/domain/read-models';

const change = (kind: ReadModelChange['kind'], id: string, customerId: string | null, at = '2026-11-23T12:00:00.000Z'): ReadModelChange => ({ kind, id, customerId, at });

describe('change coalescer', () => {
  it('turns a burst into one change per thing, keeping the latest', () => {
    const coalescer = new ChangeCoalescer();
    for (let i = 0; i < 1_000; i++) coalescer.add([change('execution', `e-${i % 10}`, 'acme', `2026-11-23T12:00:${String(i % 60).padStart(2, '0')}.000Z`), change('overview', 'system', null)]);
    const drained = coalescer.drain();
    expect(drained).toHaveLength(11);
    expect(drained.find((c) => c.id === 'e-9')!.at).toBe('2026-11-23T12:00:59.000Z');
    expect(coalescer.drain()).toEqual([]);
  });

  it('shows a customer only its own changes and nothing system-wide', () => {
    const kinds = new Set<ReadModelChange['kind']>(['execution', 'customer', 'overview']);
    expect(visible(change('execution', 'e', 'acme'), { kinds, customerId: 'acme' })).toBe(true);
    expect(visible(change('execution', 'e', 'globex'), { kinds, customerId: 'acme' })).toBe(false);
    expect(visible(change('overview', 'system', null), { kinds, customerId: 'acme' })).toBe(false);
    expect(visible(change('overview', 'system', null), { kinds, customerId: null })).toBe(true);
    expect(visible(change('alert', 'a', null), { kinds, customerId: null })).toBe(false);
  });
});
