// patches/kafkajs+2.2.4.patch rewrites kafkajs's record encoder so that a record is sized first and
// written into one buffer (it allocated a zeroed 512-byte buffer per record and per header), and writes
// varints in place (it built an array and a Buffer per varint, and a Long per timestamp). Every byte
// we publish goes through it, so it must write exactly what kafkajs 2.2.4 wrote: the reference below is
// that release's record encoder, composed from its own parts, and varints are checked against the
// protocol's own examples. Its murmur2 uses 32-bit integer arithmetic instead of Long objects, and
// messages are grouped per partition in place: a key must land on the partition the Java client
// picks, checked against Kafka's own test vectors and a BigInt transcription of Java's code.
// Without the patch applied (a failed postinstall), the null-header case throws, as the release did.
/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder');
const Decoder = require('kafkajs/src/protocol/decoder');
const Header = require('kafkajs/src/protocol/recordBatch/header/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2');
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition');

type HeaderValue = string | Buffer | null | (string | Buffer)[];
interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number | string;
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: Record<string, HeaderValue>;
}

/** kafkajs 2.2.4's record encoder as released (one Encoder per header, written as an array). */
function releasedEncoding({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): Buffer {
  const headersArray = Object.keys(headers).flatMap((headerKey) => {
    const headerValue = headers[headerKey];
    return Array.isArray(headerValue) ? headerValue.map((v) => ({ key: headerKey, value: v })) : [{ key: headerKey, value: headerValue }];
  });
  let sizeOfHeaders = Encoder.sizeOfVarInt(headersArray.length);
  for (const header of headersArray) {
    const keySize = Buffer.byteLength(header.key);
    sizeOfHeaders += Encoder.sizeOfVarInt(keySize) + keySize;
    sizeOfHeaders += header.value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(Buffer.byteLength(header.value)) + Buffer.byteLength(header.value);
  }
  const sizeOfBody =
    1 + Encoder.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + Encoder.sizeOfVarIntBytes(key) + Encoder.sizeOfVarIntBytes(value) + sizeOfHeaders;
  return new Encoder()
    .writeVarInt(sizeOfBody)
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(headersArray.map(Header)).buffer;
}

const envelopeHeaders = {
  'flotilla-event-id': 'a3b1c2d4-0000-4000-8000-000000000001',
  'flotilla-event-type': 'flotilla.execution.ExecutionCompleted',
  'flotilla-aggregate-version': '12',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

const cases: [string, RecordInput][] = [
  ['no headers, no key', { value: Buffer.from([1, 2, 3]) }],
  ['the envelope headers a relayed event carries', { key: 'exec-1', value: Buffer.alloc(300, 7), offsetDelta: 499, timestampDelta: 1_250, headers: envelopeHeaders }],
  ['a header given several values', { key: 'k', value: 'v', headers: { retry: ['1', Buffer.from('2')], single: 'x' } }],
  ['a null header value (the release threw sizing it; it writes length -1)', { key: 'k', value: 'v', headers: { cause: null } }],
  ['multi-byte characters in keys and values', { key: 'clé', value: 'värde', headers: { 'naïve-ключ': 'значение ✓' } }],
  ['a null value (a tombstone)', { key: 'k', value: null }],
  ['a timestamp delta the size of a varint boundary', { value: 'v', timestampDelta: 2 ** 30 - 1 }],
  ['a timestamp delta only a varlong holds', { value: 'v', timestampDelta: 2 ** 31 + 17 }],
  ['a negative timestamp delta', { value: 'v', timestampDelta: -42 }],
  ['a timestamp delta given as text, as our string timestamps produce', { value: 'v', timestampDelta: '86400000' }],
  ['a value longer than the first buffer', { key: 'k', value: Buffer.alloc(5_000, 1), headers: envelopeHeaders }],
];

// Zigzag then LEB128, as Kafka's ByteUtils writes them.
const varints: [number | string, number[]][] = [
  [0, [0x00]],
  [-1, [0x01]],
  [1, [0x02]],
  [63, [0x7e]],
  [-64, [0x7f]],
  [64, [0x80, 0x01]],
  [300, [0xd8, 0x04]],
  [2 ** 30 - 1, [0xfe, 0xff, 0xff, 0xff, 0x07]],
  [-(2 ** 30), [0xff, 0xff, 0xff, 0xff, 0x07]],
];
const varlongs: [number | string, number[]][] = [
  ...varints,
  ['1250', [0xc4, 0x13]],
  [2 ** 30, [0x80, 0x80, 0x80, 0x80, 0x08]],
  [2 ** 31 + 17, [0xa2, 0x80, 0x80, 0x80, 0x10]],
  [-(2 ** 40), [0xff, 0xff, 0xff, 0xff, 0xff, 0x3f]],
];

describe('the patched kafkajs encoder', () => {
  it.each(varints)('writes the varint %p as %p', (value, bytes) => {
    expect([...new Encoder(1).writeVarInt(value).buffer]).toEqual(bytes);
  });

  it.each(varlongs)('writes the varlong %p as %p', (value, bytes) => {
    expect([...new Encoder(1).writeVarLong(value).buffer]).toEqual(bytes);
  });

  it('grows its buffer for a varint written at its end', () => {
    const encoder = new Encoder(2).writeInt8(1).writeVarInt(2 ** 30 - 1);
    expect([...encoder.buffer]).toEqual([0x01, 0xfe, 0xff, 0xff, 0xff, 0x07]);
  });
});

describe('the patched kafkajs record encoder', () => {
  it.each(cases)('writes the bytes kafkajs 2.2.4 wrote: %s', (_name, input) => {
    expect(Record(input).buffer.equals(releasedEncoding(input))).toBe(true);
  });

  it.each(cases)('reads back through kafkajs: %s', (_name, input) => {
    const decoder = new Decoder(Record(input).buffer);
    const length = decoder.readVarInt();
    expect(decoder.canReadBytes(length)).toBe(true);
    const record = RecordDecoder(new Decoder(decoder.readBytes(length)), { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
    expect(record.offset).toBe(String(input.offsetDelta ?? 0));
    expect(record.timestamp).toBe(String(input.timestampDelta ?? 0));
    expect(record.key).toEqual(input.key == null ? null : Buffer.from(input.key));
    expect(record.value).toEqual(input.value == null ? null : Buffer.from(input.value));
    expect(Object.keys(record.headers)).toEqual(Object.keys(input.headers ?? {}));
  });
});

/** Java's Utils.murmur2, transcribed with BigInt and every int operation wrapped to 32 bits. */
function javaMurmur2(data: Buffer): number {
  const int = (v: bigint) => BigInt.asIntN(32, v);
  const m = 0x5bd1e995n;
  let h = int(0x9747b28cn ^ BigInt(data.length));
  const length4 = Math.floor(data.length / 4);
  for (let i = 0; i < length4; i++) {
    let k = int(BigInt(data[i * 4]) | (BigInt(data[i * 4 + 1]) << 8n) | (BigInt(data[i * 4 + 2]) << 16n) | (BigInt(data[i * 4 + 3]) << 24n));
    k = int(k * m);
    k = int(k ^ (BigInt.asUintN(32, k) >> 24n));
    k = int(k * m);
    h = int(h * m);
    h = int(h ^ k);
  }
  const tail = data.length & ~3;
  const rest = data.length % 4;
  if (rest >= 3) h = int(h ^ (BigInt(data[tail + 2]) << 16n));
  if (rest >= 2) h = int(h ^ (BigInt(data[tail + 1]) << 8n));
  if (rest >= 1) {
    h = int(h ^ BigInt(data[tail]));
    h = int(h * m);
  }
  h = int(h ^ (BigInt.asUintN(32, h) >> 13n));
  h = int(h * m);
  h = int(h ^ (BigInt.asUintN(32, h) >> 15n));
  return Number(h);
}

describe('the patched kafkajs partitioning', () => {
  // Kafka's UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('hashes %p as the Java client does', (key, hash) => {
    expect(murmur2(key)).toBe(hash);
  });

  it('hashes any bytes as the Java client does', () => {
    let seed = 7;
    const nextByte = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 2_000; i++) {
      const key = Buffer.from(Array.from({ length: i % 41 }, nextByte));
      expect([key.toString('hex'), murmur2(key)]).toEqual([key.toString('hex'), javaMurmur2(key)]);
    }
  });

  it('groups messages per partition in the order they were given', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) }));
    const byPartition: Record<string, { value: string }[]> = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }],
      messages,
      partitioner: ({ message }: { message: { key: string } }) => Number(message.key.slice(1)) % 3,
    });
    expect(Object.keys(byPartition).sort()).toEqual(['0', '1', '2']);
    for (const [partition, grouped] of Object.entries(byPartition)) {
      expect(grouped.map((m) => m.value)).toEqual(messages.filter((m) => Number(m.key.slice(1)) % 3 === Number(partition)).map((m) => m.value));
    }
  });
});
