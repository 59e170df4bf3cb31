import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks symmetric signatures (https://www.standardwebhooks.com/, spec/standard-webhooks.md):
 * `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of a
 * `whsec_`-prefixed base64 secret. Hand-written on node:crypto rather than wrapping the `standardwebhooks`
 * package: its `verify` reads the clock itself (Date.now), knows one secret and throws, where we want the
 * time passed in, several secrets for rotation and an answer as data. HMAC is deterministic, so this stays pure.
 */

export const SECRET_PREFIX = 'whsec_';
/** What we generate; the specification asks for 24 to 64 random bytes. */
export const SECRET_BYTES = 32;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export const WEBHOOK_ID = 'webhook-id';
export const WEBHOOK_TIMESTAMP = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE = 'webhook-signature';
export type WebhookHeaderName = typeof WEBHOOK_ID | typeof WEBHOOK_TIMESTAMP | typeof WEBHOOK_SIGNATURE;

// A type, not an interface, so that it is assignable to ReceivedHeaders (an interface has no implicit index signature).
export type WebhookHeaders = {
  readonly [WEBHOOK_ID]: string;
  readonly [WEBHOOK_TIMESTAMP]: string;
  readonly [WEBHOOK_SIGNATURE]: string;
};

/** Raw bytes as they travel: verify the bytes received, never a re-serialized parse of them. */
export type WebhookBody = string | Uint8Array;

/** A new secret from random bytes the caller drew (`randomBytes(SECRET_BYTES)`), so this stays deterministic. */
export function secretFromRandomBytes(random: Uint8Array): string {
  if (random.length < MIN_SECRET_BYTES || random.length > MAX_SECRET_BYTES) {
    throw new RangeError(`a webhook secret needs ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes, got ${random.length}`);
  }
  return SECRET_PREFIX + Buffer.from(random).toString('base64');
}

/**
 * What is wrong with a secret, or null. The prefix is optional, as in the reference libraries, so a
 * receiver can paste a bare base64 key. The message never repeats the secret: it ends up in logs.
 */
export function secretProblem(secret: string): string | null {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  // Buffer's base64 decoder skips characters it does not know; check the alphabet first so a typo is
  // an error instead of a silently different key.
  if (encoded.length === 0 || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    return `a secret is ${SECRET_PREFIX} followed by standard base64`;
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) return `a secret holds ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, this one ${bytes}`;
  return null;
}

function keyOf(secret: string): Buffer {
  const problem = secretProblem(secret);
  if (problem) throw new RangeError(`malformed webhook secret: ${problem}`);
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

function digest(key: Buffer, msgId: string, timestampSeconds: number, body: WebhookBody): string {
  return createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.`).update(body).digest('base64');
}

export function signatureFor(secret: string, msgId: string, timestampSeconds: number, body: WebhookBody): string {
  // The id and the timestamp are joined with dots: a dot inside either would let one signed content be
  // read as another (the specification forbids it), and a fractional timestamp is not the header we send.
  if (msgId.length === 0 || msgId.includes('.')) throw new RangeError(`a webhook id must be non-empty and contain no ".", got "${msgId}"`);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new RangeError(`a webhook timestamp is whole seconds since the epoch, got ${timestampSeconds}`);
  return `v1,${digest(keyOf(secret), msgId, timestampSeconds, body)}`;
}

/**
 * The `webhook-signature` value: one signature per secret, space-separated. During a rotation both the
 * old and the new secret sign, so a receiver that still holds the old one keeps verifying.
 */
export function signatureHeader(secrets: readonly string[], msgId: string, timestampSeconds: number, body: WebhookBody): string {
  if (secrets.length === 0) throw new RangeError('a webhook needs at least one secret to sign with');
  return secrets.map((secret) => signatureFor(secret, msgId, timestampSeconds, body)).join(' ');
}

export function signedHeaders(secrets: readonly string[], msgId: string, timestampSeconds: number, body: WebhookBody): WebhookHeaders {
  return {
    [WEBHOOK_ID]: msgId,
    [WEBHOOK_TIMESTAMP]: String(timestampSeconds),
    [WEBHOOK_SIGNATURE]: signatureHeader(secrets, msgId, timestampSeconds, body),
  };
}

export type VerifyResult =
  /** `secretIndex`: which of the secrets matched; a rotation can end once the old one stops matching. */
  | { readonly kind: 'verified'; readonly msgId: string; readonly timestampSeconds: number; readonly secretIndex: number }
  | { readonly kind: 'missing_headers'; readonly missing: readonly WebhookHeaderName[] }
  | { readonly kind: 'malformed_timestamp'; readonly value: string }
  | { readonly kind: 'timestamp_too_old'; readonly timestampSeconds: number; readonly nowSeconds: number }
  | { readonly kind: 'timestamp_too_new'; readonly timestampSeconds: number; readonly nowSeconds: number }
  | { readonly kind: 'no_matching_signature' };

/** Node's `IncomingHttpHeaders` fits; names are matched case-insensitively. */
export type ReceivedHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Verifies a received webhook against any of `secrets` (several while a rotation is under way).
 * The timestamp window is what stops a captured request from being replayed later; the id is the
 * receiver's idempotency key, which this does not track.
 */
export function verify(
  secrets: readonly string[],
  headers: ReceivedHeaders,
  body: WebhookBody,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  if (secrets.length === 0) throw new RangeError('verifying needs at least one secret');
  const msgId = single(header(headers, WEBHOOK_ID));
  const timestamp = single(header(headers, WEBHOOK_TIMESTAMP));
  const signatures = header(headers, WEBHOOK_SIGNATURE);
  const signature = typeof signatures === 'string' ? signatures : signatures?.join(' ');
  const missing = (
    [
      [WEBHOOK_ID, msgId],
      [WEBHOOK_TIMESTAMP, timestamp],
      [WEBHOOK_SIGNATURE, signature],
    ] as const
  )
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (!msgId || !timestamp || !signature) return { kind: 'missing_headers', missing };

  if (!/^\d{1,15}$/.test(timestamp)) return { kind: 'malformed_timestamp', value: timestamp };
  const timestampSeconds = Number(timestamp);
  if (nowSeconds - timestampSeconds > toleranceSeconds) return { kind: 'timestamp_too_old', timestampSeconds, nowSeconds };
  if (timestampSeconds - nowSeconds > toleranceSeconds) return { kind: 'timestamp_too_new', timestampSeconds, nowSeconds };

  // Only `v1` (HMAC) entries concern us; others (`v1a`, asymmetric) may sit beside them and are skipped.
  const offered = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice('v1,'.length)));
  for (const [secretIndex, secret] of secrets.entries()) {
    const expected = Buffer.from(digest(keyOf(secret), msgId, timestampSeconds, body));
    // Constant-time comparison: an early-exit compare would tell an attacker how many leading
    // characters of a forged signature are right. Length is no secret (it is always 44).
    if (offered.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) {
      return { kind: 'verified', msgId, timestampSeconds, secretIndex };
    }
  }
  return { kind: 'no_matching_signature' };
}

function header(headers: ReceivedHeaders, name: WebhookHeaderName): string | readonly string[] | undefined {
  if (name in headers) return headers[name];
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** An id or timestamp sent twice with different values is as good as none. */
function single(value: string | readonly string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return value && value.length === 1 ? value[0] : undefined;
}
