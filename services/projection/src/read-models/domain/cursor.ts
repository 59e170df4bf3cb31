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
