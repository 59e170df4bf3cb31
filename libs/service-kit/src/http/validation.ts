import { ValidationError } from '@flotilla/domain';
import type { z } from 'zod';

/** Parses an HTTP input with its schema, or throws a ValidationError naming each field (→ 400). */
export function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown, root = '(body)'): z.infer<S> {
  const parsed = schema.safeParse(input ?? {});
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
