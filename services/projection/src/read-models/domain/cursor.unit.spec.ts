import { decodeCursor, decodeIdCursor, decodeTimeAndIdCursor, encodeCursor } from './cursor';

describe('cursors', () => {
  it('round-trip their key and refuse anything else', () => {
    expect(decodeCursor(encodeCursor(['2026-11-23T12:00:00.000Z', 'e-1']), 2)).toEqual(['2026-11-23T12:00:00.000Z', 'e-1']);
    expect(decodeCursor('not-ours', 2)).toBeNull();
    expect(decodeCursor(encodeCursor(['a']), 2)).toBeNull();
  });

  it.each([
    ['a key it issued', encodeCursor(['2026-11-23T12:00:00.000Z', 'd-1']), ['2026-11-23T12:00:00.000Z', 'd-1']],
    ['a time not written as the API writes it', encodeCursor(['2026-11-23T12:00:00Z', 'd-1']), null],
    ['no time at all', encodeCursor(['yesterday', 'd-1']), null],
    ['an id PostgreSQL cannot compare', encodeCursor(['2026-11-23T12:00:00.000Z', 'd\u00001']), null],
    ['a key of another list', encodeCursor(['d-1']), null],
  ])('a [time, id] cursor: %s', (_name, cursor, key) => {
    expect(decodeTimeAndIdCursor(cursor)).toEqual(key);
  });

  it.each([
    ['a key it issued', encodeCursor(['sub-1']), 'sub-1'],
    ['a number', encodeCursor([7]), null],
    ['an id with NUL', encodeCursor(['s\u0000']), null],
    ['a key of another list', encodeCursor(['2026-11-23T12:00:00.000Z', 'd-1']), null],
  ])('an [id] cursor: %s', (_name, cursor, key) => {
    expect(decodeIdCursor(cursor)).toEqual(key);
  });
});
