import { withRetry, type RetriesExhaustedError } from './retry';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import * as avro from 'avsc';
import { IncompatibleSchemaError, InvalidPayloadError, SchemaRegistryError, UndecodableMessageError } from './errors';

interface Writer {
  readonly id: number;
  /** Magic byte 0 and the schema id: what precedes every record of this type. */
  readonly header: Buffer;
  readonly type: avro.Type;
}

/** Magic byte and schema id. */
const FRAME = 5;

/**
 * Avro in the registry's wire format (magic byte + schema id), one subject per event type
 * (record-name strategy) with BACKWARD compatibility. Schemas are registered once at start-up;
 * encoding then needs no round trip to the registry.
 */
export class AvroSerde {
  private readonly idsByType = new Map<string, number>();
  private readonly writersByType = new Map<string, Writer>();
  private readonly typesById = new Map<number, string>();
  /** Where `encode` writes before copying out: avsc's own toBuffer allocates a fresh zeroed buffer per record. */
  private scratch = Buffer.allocUnsafe(4_096);

  constructor(
    readonly registry: SchemaRegistry,
    private readonly registryUrl: string,
    private readonly schemasByType: Readonly<Record<string, object>>,
  ) {}

  static create(registryUrl: string, schemasByType: Readonly<Record<string, object>>): AvroSerde {
    return new AvroSerde(new SchemaRegistry({ host: registryUrl, retry: { retries: 3 } }), registryUrl, schemasByType);
  }

  /** Registers (idempotently) every known schema; a schema the registry refuses stops start-up. */
  async registerAll(): Promise<void> {
    // A registry call that hangs (seen with several services registering at once) is abandoned
    // after its timeout and made again: registering is idempotent.
    for (const type of Object.keys(this.schemasByType)) {
      await withRetry(() => this.register(type), { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 2_000 }).catch((error: RetriesExhaustedError) => {
        throw error.lastError ?? error;
      });
    }
  }

  async register(type: string): Promise<number> {
    const schema = this.schemasByType[type];
    if (!schema) throw new UndecodableMessageError(`no schema is known for event type ${type}`);
    try {
      const { id } = await withTimeout(
        this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: type, compatibility: COMPATIBILITY.BACKWARD }),
        REGISTRY_TIMEOUT_MS,
        `registering ${type} took longer than ${REGISTRY_TIMEOUT_MS} ms`,
      );
      this.idsByType.set(type, id);
      this.typesById.set(id, type);
      return id;
    } catch (error) {
      // Two processes registering a new subject at once both set its compatibility rule; the registry
      // refuses the second with a 409 that is a race, not an incompatible schema. Once the rule exists
      // the next attempt registers (or finds) the schema.
      if (isHttpStatus(error, 409) && /rule named .* already exists/i.test(errorMessage(error))) {
        throw new SchemaRegistryError(`registering ${type} raced another process setting the subject's compatibility rule: ${errorMessage(error)}`, error);
      }
      if (isHttpStatus(error, 409)) throw new IncompatibleSchemaError(type, [errorMessage(error)]);
      throw new SchemaRegistryError(`registering ${type} failed: ${errorMessage(error)}`, error);
    }
  }

  /**
   * Frames the record as the registry's wire format, in a buffer of its own. The writer schema is
   * parsed once per type, so encoding is a synchronous avsc call after the first message.
   */
  async encode(type: string, payload: unknown): Promise<Buffer> {
    await this.prepare(type);
    let end = this.encodeInto(type, payload, this.scratch, 0);
    while (end < 0) {
      this.scratch = Buffer.allocUnsafe(2 * (this.scratch.length - end));
      end = this.encodeInto(type, payload, this.scratch, 0);
    }
    return Buffer.from(this.scratch.subarray(0, end));
  }

  /** Whether `encodeInto` can take `type` now; if not, `prepare(type)` first. */
  isPrepared(type: string): boolean {
    return this.writersByType.has(type);
  }

  /** Parses the writer schema of `type` (registering it first if this process never did). */
  async prepare(type: string): Promise<void> {
    if (!this.writersByType.has(type)) await this.writer(type);
  }

  /**
   * Frames the record into `target` from `offset`, synchronously (the type must be prepared), and
   * returns where it ends; when `target` is too short, a negative number (how many bytes were
   * missing) and nothing usable was written. Lets a publisher encode a whole batch into one
   * allocation rather than two buffers per event.
   */
  encodeInto(type: string, payload: unknown, target: Buffer, offset: number): number {
    const writer = this.writersByType.get(type);
    if (!writer) throw new Error(`encodeInto: ${type} is not prepared`);
    if (target.length - offset < FRAME) return target.length - offset - FRAME;
    const end = this.validated(type, writer, payload).encode(payload, target, offset + FRAME);
    if (end < 0) return end;
    writer.header.copy(target, offset);
    return end;
  }

  private async writer(type: string): Promise<Writer> {
    const id = this.idsByType.get(type) ?? (await this.register(type));
    const header = Buffer.alloc(FRAME);
    header.writeInt32BE(id, 1);
    const writer = { id, header, type: avro.Type.forSchema(this.schemasByType[type] as avro.Schema) };
    this.writersByType.set(type, writer);
    return writer;
  }

  private validated(type: string, writer: Writer, payload: unknown): avro.Type {
    // The paths are only collected once the payload is known to be invalid: the hook costs a closure per call.
    if (writer.type.isValid(payload)) return writer.type;
    const invalidPaths: string[] = [];
    writer.type.isValid(payload, { errorHook: (path) => invalidPaths.push(path.join('.') || '(record)') });
    throw new InvalidPayloadError(type, invalidPaths);
  }

  /** Decodes a registry-framed record; anything else is an UndecodableMessageError. */
  async decode(buffer: Buffer | null): Promise<{ type: string; payload: unknown }> {
    if (!buffer || buffer.length < 5 || buffer[0] !== 0) {
      throw new UndecodableMessageError('value is not in the schema registry wire format (magic byte 0 + schema id)');
    }
    const id = buffer.readInt32BE(1);
    let payload: unknown;
    try {
      payload = await this.registry.decode(buffer);
    } catch (error) {
      if (isHttpStatus(error, 404) || !isHttpError(error)) {
        throw new UndecodableMessageError(`cannot decode record with schema id ${id}: ${errorMessage(error)}`, error);
      }
      throw new SchemaRegistryError(`schema registry failed while decoding schema id ${id}: ${errorMessage(error)}`, error);
    }
    return { type: await this.typeOf(id), payload };
  }

  /** Asks the registry whether `schema` may become the next version of `subject`. */
  async checkCompatibility(subject: string, schema: object): Promise<{ compatible: boolean; messages: string[] }> {
    const response = await fetch(`${this.registryUrl}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(schema) }),
    });
    const body = (await response.json().catch(() => ({}))) as { is_compatible?: boolean; messages?: string[]; message?: string };
    if (!response.ok && response.status !== 409 && response.status !== 422) {
      throw new SchemaRegistryError(`compatibility check for ${subject} failed with HTTP ${response.status}: ${body.message ?? ''}`);
    }
    return { compatible: body.is_compatible === true, messages: body.messages ?? (body.message ? [body.message] : []) };
  }

  private async typeOf(id: number): Promise<string> {
    const known = this.typesById.get(id);
    if (known) return known;
    const schema = (await this.registry.getSchema(id)) as { name?: string };
    const type = schema.name ?? `schema-${id}`;
    this.typesById.set(id, type);
    return type;
  }
}

function isHttpError(error: unknown): error is { status: number } {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

function isHttpStatus(error: unknown, status: number): boolean {
  return isHttpError(error) && error.status === status;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const REGISTRY_TIMEOUT_MS = 10_000;

/** The registry client has no request timeout of its own. */
function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SchemaRegistryError(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
