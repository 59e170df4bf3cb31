import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaConnectionOptions, kafkaConnectionSchema, KafkaConnectionConfigError } from './kafka-connection';

const CA = '-----BEGIN CERTIFICATE-----\nthe CA\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nthe client\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nthe key\n-----END PRIVATE KEY-----\n';

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-connection-'));
  writeFileSync(file('ca.pem'), CA);
  writeFileSync(file('client.pem'), CERT);
  writeFileSync(file('client.key'), KEY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The environment as a service reads it: parsed by the schema, then turned into kafkajs options. */
function optionsOf(env: Record<string, string>) {
  const result = kafkaConnectionSchema.safeParse(env);
  if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; '));
  return kafkaConnectionOptions(result.data);
}

describe('kafkaConnectionOptions', () => {
  it.each([
    { case: 'no security: nothing to spread', env: {}, expected: {} },
    { case: 'TLS with the system CAs', env: { KAFKA_SSL: 'true' }, expected: { ssl: { rejectUnauthorized: true } } },
    {
      case: 'TLS with a private CA',
      env: { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: 'ca.pem' },
      expected: { ssl: { rejectUnauthorized: true, ca: CA } },
    },
    {
      case: 'mutual TLS with a client certificate, verification off',
      env: { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: 'ca.pem', KAFKA_SSL_CERT_FILE: 'client.pem', KAFKA_SSL_KEY_FILE: 'client.key', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' },
      expected: { ssl: { rejectUnauthorized: false, ca: CA, cert: CERT, key: KEY } },
    },
    {
      case: 'SCRAM-SHA-512 over TLS',
      env: { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'flotilla', KAFKA_SASL_PASSWORD: 's3cret' },
      expected: { ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'flotilla', password: 's3cret' } },
    },
    {
      case: 'SCRAM-SHA-256 written in upper case, without TLS',
      env: { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', KAFKA_SASL_USERNAME: 'flotilla', KAFKA_SASL_PASSWORD: 's3cret' },
      expected: { sasl: { mechanism: 'scram-sha-256', username: 'flotilla', password: 's3cret' } },
    },
    {
      case: 'PLAIN',
      env: { KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'flotilla', KAFKA_SASL_PASSWORD: 's3cret' },
      expected: { ssl: { rejectUnauthorized: true }, sasl: { mechanism: 'plain', username: 'flotilla', password: 's3cret' } },
    },
  ])('$case', ({ env, expected }) => {
    const withPaths = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k.endsWith('_FILE') ? file(v) : v]));
    expect(optionsOf(withPaths)).toEqual(expected);
  });
});

describe('kafkaConnectionSchema', () => {
  it.each([
    { case: 'a mechanism without a password', env: { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'flotilla' }, problems: ['KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set'] },
    {
      case: 'a mechanism without username and password',
      env: { KAFKA_SASL_MECHANISM: 'plain' },
      problems: ['KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is set', 'KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set'],
    },
    { case: 'credentials without a mechanism', env: { KAFKA_SASL_USERNAME: 'flotilla', KAFKA_SASL_PASSWORD: 's3cret' }, problems: ['KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM is not', 'KAFKA_SASL_PASSWORD is set but KAFKA_SASL_MECHANISM is not'] },
    { case: 'an unknown mechanism', env: { KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, problems: ['KAFKA_SASL_MECHANISM must be one of scram-sha-256, scram-sha-512, plain'] },
    { case: 'a flag that is not true or false', env: { KAFKA_SSL: 'yes' }, problems: ['KAFKA_SSL must be true or false'] },
    { case: 'a CA file without TLS', env: { KAFKA_SSL_CA_FILE: '/etc/ca.pem' }, problems: ['KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not true'] },
    { case: 'a client certificate without its key', env: { KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/etc/client.pem' }, problems: ['KAFKA_SSL_KEY_FILE is required when KAFKA_SSL_CERT_FILE is set'] },
  ])('names the variable to fix: $case', ({ env, problems }) => {
    const result = kafkaConnectionSchema.safeParse(env);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')} ${i.message}`)).toEqual(problems);
  });

  it('defaults: no TLS, and certificates verified once TLS is on', () => {
    expect(kafkaConnectionSchema.parse({})).toEqual({ KAFKA_SSL: false, KAFKA_SSL_REJECT_UNAUTHORIZED: true });
  });
});

describe('kafkaConnectionOptions given settings the schema did not check', () => {
  it('names the missing password', () => {
    const attempt = () => kafkaConnectionOptions({ KAFKA_SSL: false, KAFKA_SSL_REJECT_UNAUTHORIZED: true, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'flotilla' });
    expect(attempt).toThrow(KafkaConnectionConfigError);
    expect(attempt).toThrow(/KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set/);
  });

  it('names the PEM file it cannot read', () => {
    const attempt = () => kafkaConnectionOptions({ KAFKA_SSL: true, KAFKA_SSL_REJECT_UNAUTHORIZED: true, KAFKA_SSL_CA_FILE: file('missing.pem') });
    expect(attempt).toThrow(/KAFKA_SSL_CA_FILE cannot be read .*missing\.pem/);
  });
});
