/** Opaque keyset cursors: the sort key of the last item served, base64url-encoded JSON. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key inside a cursor, or null when it is not one of ours (the API answers 400). */
export function decodeCursor(cursor: string, arity: number): (string | number)[] | null {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string' || typeof k === 'number') ? key : null;
  } catch {
    return null;
  }
}

/** A key part as the API writes times: ISO-8601 in UTC with milliseconds, exactly. */
const issuedTime = (k: unknown): k is string => typeof k === 'string' && Number.isFinite(Date.parse(k)) && new Date(Date.parse(k)).toISOString() === k;
/** A key part PostgreSQL can compare: a string without NUL. */
const storable = (k: unknown): k is string => typeof k === 'string' && !k.includes('\u0000');

/** The [time, id] key of a cursor this API issued for a list newest first; null for any other cursor (400). */
export function decodeTimeAndIdCursor(cursor: string): [string, string] | null {
  const key = decodeCursor(cursor, 2);
  return key !== null && issuedTime(key[0]) && storable(key[1]) ? [key[0], key[1]] : null;
}

/** The [id] key of a cursor this API issued for a list in id order; null for any other cursor (400). */
export function decodeIdCursor(cursor: string): string | null {
  const key = decodeCursor(cursor, 1);
  return key !== null && storable(key[0]) ? key[0] : null;
}
