import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';

/** `true` or `false`, nothing else (z.coerce.boolean would read "false" as true). */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { errorMap: () => ({ message: 'must be true or false' }) })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');

const SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512', 'plain'] as const;
const pemFile = z.string().min(1, 'must be a file path').optional();

/**
 * Optional variables that secure the connection to the Kafka brokers: TLS (with a private CA and a
 * client certificate if the brokers ask for one) and SASL authentication. With none set, the
 * connection is plaintext and unauthenticated, as on the local stack. Spread into a `z.object`; the
 * rules between variables are `kafkaConnectionProblems`, which `kafkaConnectionSchema` applies.
 */
export const kafkaConnectionShape = {
  KAFKA_SSL: flag(false),
  /** PEM file of the CA(s) that signed the brokers' certificates; the system's CAs when absent. */
  KAFKA_SSL_CA_FILE: pemFile,
  /** PEM files of a client certificate and its key, for brokers that authenticate clients by TLS. */
  KAFKA_SSL_CERT_FILE: pemFile,
  KAFKA_SSL_KEY_FILE: pemFile,
  KAFKA_SSL_REJECT_UNAUTHORIZED: flag(true),
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((value) => value.trim().toLowerCase())
    .pipe(z.enum(SASL_MECHANISMS, { errorMap: () => ({ message: `must be one of ${SASL_MECHANISMS.join(', ')}` }) }))
    .optional(),
  KAFKA_SASL_USERNAME: z.string().min(1, 'must not be empty').optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1, 'must not be empty').optional(),
};

export type KafkaConnectionConfig = z.output<z.ZodObject<typeof kafkaConnectionShape>>;

export interface KafkaConnectionProblem {
  /** The variable to fix. */
  readonly variable: keyof KafkaConnectionConfig;
  readonly message: string;
}

/** What is wrong between the variables (each one alone is checked by its schema). */
export function kafkaConnectionProblems(config: KafkaConnectionConfig): KafkaConnectionProblem[] {
  const problems: KafkaConnectionProblem[] = [];
  if (config.KAFKA_SASL_MECHANISM) {
    if (!config.KAFKA_SASL_USERNAME) problems.push({ variable: 'KAFKA_SASL_USERNAME', message: 'is required when KAFKA_SASL_MECHANISM is set' });
    if (!config.KAFKA_SASL_PASSWORD) problems.push({ variable: 'KAFKA_SASL_PASSWORD', message: 'is required when KAFKA_SASL_MECHANISM is set' });
  } else {
    for (const variable of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (config[variable]) problems.push({ variable, message: 'is set but KAFKA_SASL_MECHANISM is not' });
    }
  }
  if (!config.KAFKA_SSL) {
    for (const variable of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const) {
      if (config[variable]) problems.push({ variable, message: 'is set but KAFKA_SSL is not true' });
    }
  }
  if (config.KAFKA_SSL_CERT_FILE && !config.KAFKA_SSL_KEY_FILE) problems.push({ variable: 'KAFKA_SSL_KEY_FILE', message: 'is required when KAFKA_SSL_CERT_FILE is set' });
  if (config.KAFKA_SSL_KEY_FILE && !config.KAFKA_SSL_CERT_FILE) problems.push({ variable: 'KAFKA_SSL_CERT_FILE', message: 'is required when KAFKA_SSL_KEY_FILE is set' });
  return problems;
}

/** The variables with their rules: each problem is an issue on the variable to fix. */
export const kafkaConnectionSchema = z.object(kafkaConnectionShape).superRefine((config, context) => {
  for (const { variable, message } of kafkaConnectionProblems(config)) context.addIssue({ code: z.ZodIssueCode.custom, path: [variable], message });
});

/** A Kafka connection setting that cannot be used; the message names every variable to fix. */
export class KafkaConnectionConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid Kafka connection configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'KafkaConnectionConfigError';
  }
}

function readPem(variable: keyof KafkaConnectionConfig, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new KafkaConnectionConfigError([`${variable} cannot be read (${file}): ${(error as Error).message}`]);
  }
}

/**
 * The `ssl` and `sasl` part of a kafkajs `KafkaConfig` for these settings, to spread into
 * `new Kafka({...})`: empty without TLS or SASL. Reads the PEM files; throws a
 * KafkaConnectionConfigError naming the variable when a rule is broken or a file cannot be read.
 */
export function kafkaConnectionOptions(config: KafkaConnectionConfig): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const problems = kafkaConnectionProblems(config);
  if (problems.length > 0) throw new KafkaConnectionConfigError(problems.map(({ variable, message }) => `${variable} ${message}`));
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (config.KAFKA_SSL) {
    options.ssl = {
      rejectUnauthorized: config.KAFKA_SSL_REJECT_UNAUTHORIZED,
      ...(config.KAFKA_SSL_CA_FILE ? { ca: readPem('KAFKA_SSL_CA_FILE', config.KAFKA_SSL_CA_FILE) } : {}),
      ...(config.KAFKA_SSL_CERT_FILE ? { cert: readPem('KAFKA_SSL_CERT_FILE', config.KAFKA_SSL_CERT_FILE) } : {}),
      ...(config.KAFKA_SSL_KEY_FILE ? { key: readPem('KAFKA_SSL_KEY_FILE', config.KAFKA_SSL_KEY_FILE) } : {}),
    };
  }
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  // kafkajs types each mechanism apart; all three take the same username and password.
  if (mechanism && username && password) options.sasl = { mechanism, username, password } as SASLOptions;
  return options;
}
