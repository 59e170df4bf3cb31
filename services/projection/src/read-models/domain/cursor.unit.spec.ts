import { decodeCursor, encodeCursor } from './cursor';

describe('cursors', () => {
  it('round-trip their key and refuse anything else', () => {
    expect(decodeCursor(encodeCursor(['2026-11-23T12:00:00.000Z', 'e-1']), 2)).toEqual(['2026-11-23T12:00:00.000Z', 'e-1']);
    expect(decodeCursor('not-ours', 2)).toBeNull();
    expect(decodeCursor(encodeCursor(['a']), 2)).toBeNull();
  });
});
