import { secretFromRandomBytes, secretProblem, signatureFor, signatureHeader, signedHeaders, verify, type ReceivedHeaders } from './webhook-signature';

// The example of the Standard Webhooks reference implementation: test "sign function works" in
// github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts (the same
// values are in the Svix libraries' tests). A receiver's off-the-shelf library verifies what we send
// only if this reproduces exactly.
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const oldSecret = secretFromRandomBytes(new Uint8Array(32).fill(1));
const newSecret = secretFromRandomBytes(new Uint8Array(32).fill(2));
const strangerSecret = secretFromRandomBytes(new Uint8Array(32).fill(3));
const now = 1_700_000_000;
const body = '{"type":"execution.completed","data":{"executionId":"e-1"}}';

describe('webhook signatures', () => {
  it('reproduces the published Standard Webhooks example', () => {
    expect(signatureFor(vector.secret, vector.msgId, vector.timestamp, vector.body)).toBe(vector.signature);
    expect(signatureFor(vector.secret, vector.msgId, vector.timestamp, Buffer.from(vector.body))).toBe(vector.signature);
    const headers = { 'webhook-id': vector.msgId, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': vector.signature };
    expect(verify([vector.secret], headers, vector.body, vector.timestamp)).toEqual({ kind: 'verified', msgId: vector.msgId, timestampSeconds: vector.timestamp, secretIndex: 0 });
  });

  it('accepts the key with or without its whsec_ prefix, as the reference libraries do', () => {
    expect(signatureFor('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', vector.msgId, vector.timestamp, vector.body)).toBe(vector.signature);
  });

  it('makes secrets of whsec_ and the base64 of the random bytes it is given', () => {
    const secret = secretFromRandomBytes(Uint8Array.from({ length: 32 }, (_, i) => i));
    expect(secret).toBe('whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=');
    expect(secretProblem(secret)).toBeNull();
    expect(() => secretFromRandomBytes(new Uint8Array(16))).toThrow('a webhook secret needs 24 to 64 random bytes, got 16');
  });

  it.each([
    ['', 'a secret is whsec_ followed by standard base64'],
    ['whsec_', 'a secret is whsec_ followed by standard base64'],
    ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w', 'a secret is whsec_ followed by standard base64'],
    ['whsec_c2hvcnQ=', 'a secret holds 24 to 64 bytes, this one 5'],
  ])('names what is wrong with the secret %j without repeating it', (secret, problem) => {
    expect(secretProblem(secret)).toBe(problem);
    expect(() => signatureFor(secret, 'msg_1', now, body)).toThrow(`malformed webhook secret: ${problem}`);
  });

  it('refuses to sign an id with a dot in it or a timestamp that is not whole seconds', () => {
    expect(() => signatureFor(oldSecret, 'msg.1', now, body)).toThrow('contain no "."');
    expect(() => signatureFor(oldSecret, 'msg_1', now + 0.5, body)).toThrow('whole seconds');
  });

  describe('rotation', () => {
    const header = signatureHeader([oldSecret, newSecret], 'msg_1', now, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(now), 'webhook-signature': header };

    it('signs with every secret, space-separated', () => {
      expect(header).toBe(`${signatureFor(oldSecret, 'msg_1', now, body)} ${signatureFor(newSecret, 'msg_1', now, body)}`);
      expect(header.split(' ')).toHaveLength(2);
    });

    it.each([
      ['a receiver that still has the old secret', [oldSecret], 0],
      ['a receiver that already has the new secret', [newSecret], 0],
      ['a receiver that holds both, in either order', [strangerSecret, newSecret, oldSecret], 1],
    ])('verifies for %s', (_who, secrets, secretIndex) => {
      expect(verify(secrets, headers, body, now)).toMatchObject({ kind: 'verified', secretIndex });
    });

    it('does not verify for a receiver with neither secret', () => {
      expect(verify([strangerSecret], headers, body, now)).toEqual({ kind: 'no_matching_signature' });
    });
  });

  describe('verification', () => {
    const headers = signedHeaders([newSecret], 'msg_1', now, body);
    const at = (nowSeconds: number, received: ReceivedHeaders = headers, receivedBody: string | Buffer = body) => verify([newSecret], received, receivedBody, nowSeconds);

    it.each([
      ['at the moment of sending', now, 'verified'],
      ['exactly the tolerance later', now + 300, 'verified'],
      ['a second past the tolerance', now + 301, 'timestamp_too_old'],
      ['exactly the tolerance earlier (receiver clock behind)', now - 300, 'verified'],
      ['further behind than the tolerance', now - 301, 'timestamp_too_new'],
    ])('judges the timestamp %s', (_when, nowSeconds, kind) => {
      expect(at(nowSeconds).kind).toBe(kind);
    });

    it('takes the tolerance as an argument', () => {
      expect(verify([newSecret], headers, body, now + 60, 30)).toEqual({ kind: 'timestamp_too_old', timestampSeconds: now, nowSeconds: now + 60 });
    });

    it.each([
      ['a tampered body', { body: body.replace('e-1', 'e-2') }],
      ['a re-serialized body (whitespace added)', { body: JSON.stringify(JSON.parse(body), null, 1) }],
      ['another id', { headers: { ...headers, 'webhook-id': 'msg_2' } }],
      ['a timestamp moved within the window', { headers: { ...headers, 'webhook-timestamp': String(now + 1) } }],
      ['a truncated signature', { headers: { ...headers, 'webhook-signature': headers['webhook-signature'].slice(0, 20) } }],
      ['an empty v1 signature', { headers: { ...headers, 'webhook-signature': 'v1,' } }],
      ['the right signature under another version', { headers: { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') } }],
    ])('finds no matching signature for %s', (_case, change: { body?: string; headers?: ReceivedHeaders }) => {
      expect(at(now, change.headers ?? headers, change.body ?? body)).toEqual({ kind: 'no_matching_signature' });
    });

    it('finds the right signature among others, ignoring other schemes and extra spaces', () => {
      const signature = `v1a,c29tZXRoaW5nIGVsc2U= v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=  ${headers['webhook-signature']}`;
      expect(at(now, { ...headers, 'webhook-signature': signature }).kind).toBe('verified');
    });

    it('verifies the raw bytes received and reads header names in any case', () => {
      const received = { 'Webhook-Id': 'msg_1', 'WEBHOOK-TIMESTAMP': String(now), 'webhook-Signature': headers['webhook-signature'] };
      expect(at(now, received, Buffer.from(body)).kind).toBe('verified');
    });

    it.each([
      [{ 'webhook-timestamp': String(now), 'webhook-signature': 'v1,x' }, ['webhook-id']],
      [{ 'webhook-id': 'msg_1', 'webhook-signature': '' }, ['webhook-timestamp', 'webhook-signature']],
      [{ 'webhook-id': ['msg_1', 'msg_2'], 'webhook-timestamp': String(now), 'webhook-signature': 'v1,x' }, ['webhook-id']],
      [{}, ['webhook-id', 'webhook-timestamp', 'webhook-signature']],
    ])('names the missing headers of %j', (received, missing) => {
      expect(at(now, received)).toEqual({ kind: 'missing_headers', missing });
    });

    it.each(['hello', '1614265330.5', '-1', ' 1614265330'])('refuses the timestamp %j', (value) => {
      expect(at(now, { ...headers, 'webhook-timestamp': value })).toEqual({ kind: 'malformed_timestamp', value });
    });
  });
});
