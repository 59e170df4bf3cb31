import { FlotillaError, isProgrammingError } from '@flotilla/domain';

export { isProgrammingError };

/** Base of every messaging error (the platform's one error model): a stable code, whether retrying can help, and the cause. */
export class MessagingError extends FlotillaError {}

/** The bytes are not a registry-framed Avro record we can read: retrying cannot help. */
export class UndecodableMessageError extends MessagingError {
  constructor(message: string, cause?: unknown) {
    super(message, 'UNDECODABLE_MESSAGE', false, { cause });
  }
}

/** A schema change the registry refuses under the subject's compatibility rule. */
export class IncompatibleSchemaError extends MessagingError {
  constructor(subject: string, readonly messages: readonly string[]) {
    super(`schema for ${subject} is not compatible: ${messages.join('; ') || 'rejected by the registry'}`, 'INCOMPATIBLE_SCHEMA', false);
  }
}

/** A payload that does not match its event type's schema: a bug in the producer, never retriable. */
export class InvalidPayloadError extends MessagingError {
  constructor(type: string, readonly invalidPaths: readonly string[]) {
    super(`payload of ${type} does not match its schema at: ${invalidPaths.join(', ')}`, 'INVALID_PAYLOAD', false);
  }
}

export class SchemaRegistryError extends MessagingError {
  constructor(message: string, cause?: unknown) {
    super(message, 'SCHEMA_REGISTRY_UNAVAILABLE', true, { cause });
  }
}

export function isRetriable(error: unknown): boolean {
  if (error instanceof FlotillaError) return error.retriable;
  if (error && typeof error === 'object' && 'retriable' in error) return Boolean((error as { retriable: unknown }).retriable);
  return !isProgrammingError(error);
}

export function isUndecodable(error: unknown): error is UndecodableMessageError {
  return error instanceof UndecodableMessageError;
}
