/**
 * The one error model. Every error the platform raises on purpose is a FlotillaError: a stable `code`
 * for machines, whether retrying can help, and the cause. Domain failures come in four kinds, which
 * the HTTP edge maps once (service-kit's exception filter): validation → 400, illegal state → 409,
 * not found → 404, concurrency → 412. Expected business outcomes (a rejected execution, a denied
 * budget) are events, not errors.
 */
export class FlotillaError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem with an input, naming the field (dotted path; `(body)` for the whole input). */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/** The input is wrong; sending it again cannot help. */
export class ValidationError extends FlotillaError {
  constructor(readonly problems: readonly FieldProblem[], options?: { cause?: unknown }) {
    super(problems.map((p) => `${p.field}: ${p.problem}`).join('; ') || 'invalid input', 'VALIDATION_FAILED', false, options);
  }

  static of(field: string, problem: string): ValidationError {
    return new ValidationError([{ field, problem }]);
  }
}

/** The thing exists but its state forbids the change (cancel a finished execution, start a second rebuild). */
export class IllegalStateError extends FlotillaError {
  constructor(message: string, code = 'ILLEGAL_STATE', options?: { cause?: unknown }) {
    super(message, code, false, options);
  }
}

export class NotFoundError extends FlotillaError {
  constructor(
    readonly what: string,
    readonly id: string,
    message = `${what} ${id} does not exist`,
  ) {
    super(message, 'NOT_FOUND', false);
  }
}

/** Someone else changed it first: reload and decide again. Retriable by definition. */
export class ConcurrencyError extends FlotillaError {
  constructor(message: string, code = 'CONCURRENCY_CONFLICT', options?: { cause?: unknown }) {
    super(message, code, true, options);
  }
}

/** A retriable operation failed every attempt it was allowed: the caller must not retry it again. */
export class RetriesExhaustedError extends FlotillaError {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
  ) {
    super(`failed after ${attempts} attempt(s): ${lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError)}`, 'RETRIES_EXHAUSTED', false, { cause: lastError });
  }
}

export const isFlotillaError = (error: unknown): error is FlotillaError => error instanceof FlotillaError;
export const isValidationError = (error: unknown): error is ValidationError => error instanceof ValidationError;
export const isIllegalStateError = (error: unknown): error is IllegalStateError => error instanceof IllegalStateError;
export const isNotFoundError = (error: unknown): error is NotFoundError => error instanceof NotFoundError;
export const isConcurrencyError = (error: unknown): error is ConcurrencyError => error instanceof ConcurrencyError;

/** Errors that are bugs, not transient conditions; retrying them only delays the failure. */
export function isProgrammingError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError || error instanceof RangeError;
}
