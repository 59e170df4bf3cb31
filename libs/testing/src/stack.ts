import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

/** Endpoints of the real stack started by the global setup. */
export const stack = {
  get kafkaBrokers() {
    return required('KAFKA_BROKERS').split(',');
  },
  get registryUrl() {
    return required('SCHEMA_REGISTRY_URL');
  },
  get databaseUrl() {
    return required('DATABASE_URL');
  },
  get otlpEndpoint() {
    return required('OTEL_EXPORTER_OTLP_ENDPOINT');
  },
  get jaegerUrl() {
    return required('JAEGER_QUERY_URL');
  },
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the int/e2e global setup should have started the stack`);
  return value;
}

/** A fresh namespace per test file: its own topics, consumer groups and database schemas. */
export function uniqueNamespace(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export function testKafka(clientId = 'flotilla-test'): Kafka {
  return new Kafka({ clientId, brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
}

export function testPool(max = 5): Pool {
  const pool = new Pool({ connectionString: stack.databaseUrl, max });
  // An idle client the server drops (a PostgreSQL restart) is replaced on next use; unhandled, its
  // error would end the whole test file.
  pool.on('error', () => undefined);
  return pool;
}

/** Reads every message currently in `topic` (from the beginning) until `done` says enough, or the timeout. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  done: (messages: KafkaMessage[]) => boolean,
  timeoutMs = 30_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${uniqueNamespace()}`, maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
      if (done(messages)) finish();
    },
  });
  const timer = setTimeout(finish, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return messages;
}
