import { ValidationError, type FieldProblem } from '@flotilla/domain';
import { z } from 'zod';

/**
 * Parses an HTTP input with its schema, or throws a ValidationError naming each field (→ 400). Text
 * must be well-formed Unicode (RFC 7493): JSON can escape an unpaired surrogate, which no UTF-8 store
 * or Avro record can hold, so such a string is refused here, wherever it sits in the input.
 */
export function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown, root = '(body)'): z.infer<S> {
  const malformed = malformedText(input, []).map((path) => ({ field: path.join('.') || root, problem: 'must be well-formed Unicode (an unpaired surrogate is not)' }));
  if (malformed.length > 0) throw new ValidationError(malformed);
  // No body at all is an empty one; a JSON `null` (or any other non-object) is refused by the schema.
  const parsed = schema.safeParse(input === undefined ? {} : input);
  if (parsed.success) return parsed.data;
  throw new ValidationError(
    parsed.error.issues.flatMap((issue) =>
      // An unknown field is named itself, rather than the object that holds it.
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), problem: `Unrecognized key: '${key}'` }))
        : [{ field: issue.path.join('.') || root, problem: issue.message }],
    ),
  );
}

const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** The paths of the strings (values or keys) in a parsed input that hold an unpaired surrogate. */
function malformedText(value: unknown, path: readonly (string | number)[]): (string | number)[][] {
  if (typeof value === 'string') return UNPAIRED_SURROGATE.test(value) ? [[...path]] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => malformedText(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => (UNPAIRED_SURROGATE.test(key) ? [[...path, key]] : malformedText(item, [...path, key])));
  }
  return [];
}

/**
 * Input its schema allows that the service still refuses, for a reason no schema can state: an
 * execution whose tasks form a cycle or name an unknown agent type, a cursor this API did not issue.
 * A 400 like any invalid input, told apart by its own code (the schema's own refusals are
 * VALIDATION_FAILED), so that a client, or a fuzzer sending schema-valid requests, knows which is which.
 */
export class RefusedInputError extends ValidationError {
  override readonly code: string;

  constructor(code: string, problems: readonly FieldProblem[], options?: { cause?: unknown }) {
    super(problems, options);
    this.code = code;
  }
}

/**
 * A string PostgreSQL can store and compare: no NUL (U+0000), which its text types refuse. Every
 * string input that reaches a query or an event is one, so that such input answers 400 instead of
 * failing the query; the OpenAPI document states it as a pattern. (Unpaired surrogates, which
 * PostgreSQL refuses too, parseInput refuses in every input.)
 */
export const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL (U+0000)');

/** The earliest and latest instants PostgreSQL and JavaScript both hold as `timestamptz` and `Date`. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An RFC 3339 date-time with an offset (`Z` or `±hh:mm`, upper or lower case), as the OpenAPI
 * `date-time` format says, normalised to UTC ISO-8601 with milliseconds. An instant before year 1 or
 * after 9999 (`0001-01-01T00:00:00+23:59`) is clamped to that range: as a filter it selects the same.
 */
export const dateTime = (message = 'must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T12:00:00Z') =>
  z.preprocess(
    (value) => (typeof value === 'string' ? value.toUpperCase() : value),
    z
      .string()
      .datetime({ offset: true, message })
      .transform((value) => new Date(Math.min(LATEST, Math.max(EARLIEST, Date.parse(value)))).toISOString()),
  );
