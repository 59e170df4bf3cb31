import { RetriesExhaustedError, withRetry } from './retry';
import { UndecodableMessageError } from './errors';
import { isUnavailable, retryWhileUnavailable } from './unavailable';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isUnavailable', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a terminated backend (admin_shutdown)', withCode('57P01', 'terminating connection due to administrator command')],
    ['a crashed postmaster', withCode('57P01', 'terminating connection due to unexpected postmaster exit')],
    ['a server starting up (cannot_connect_now)', withCode('57P03', 'the database system is starting up')],
    ['a connection exception (class 08)', withCode('08006', 'connection failure')],
    ['a socket closed under node-postgres', new Error('Connection terminated unexpectedly')],
    ['a closed client', new Error('Client has encountered a connection error and is not queryable')],
    ['a broker away', Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' })],
    ['exhausted retries of one', new RetriesExhaustedError(withCode('ECONNREFUSED'), 5)],
    ['a registry unreachable while decoding', new UndecodableMessageError('cannot decode', new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') }))],
    ['aggregated connection errors', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), { code: 'ECONNREFUSED' })],
  ])('%s is a dependency away', (_, error) => {
    expect(isUnavailable(error)).toBe(true);
  });

  it.each([
    ['a constraint violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', withCode('42601', 'syntax error at or near "SELEC"')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['bytes that are not a record', new UndecodableMessageError('value is not in the schema registry wire format')],
    ['nothing at all', undefined],
  ])('%s is not', (_, error) => {
    expect(isUnavailable(error)).toBe(false);
  });
});

describe('retryWhileUnavailable', () => {
  it('waits out an outage longer than the bounded retries inside it, and returns the result', async () => {
    let calls = 0;
    const work = () => withRetry(async () => {
      calls++;
      if (calls < 9) throw withCode('ECONNREFUSED');
      return 'done';
    }, { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 });
    const waits: number[] = [];
    await expect(retryWhileUnavailable(work, { initialDelayMs: 1, maxDelayMs: 4, onWait: () => waits.push(calls) })).resolves.toBe('done');
    expect(calls).toBe(9);
    expect(waits).toEqual([3, 6]);
  });

  it('throws any other failure at once', async () => {
    const work = jest.fn(async () => {
      throw withCode('23505');
    });
    await expect(retryWhileUnavailable(work, { initialDelayMs: 1 })).rejects.toMatchObject({ code: '23505' });
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('gives up, with the last error, when told to abandon', async () => {
    let abandon = false;
    const work = jest.fn(async () => {
      abandon = true;
      throw withCode('57P03');
    });
    await expect(retryWhileUnavailable(work, { initialDelayMs: 1, abandon: () => abandon })).rejects.toMatchObject({ code: '57P03' });
    expect(work).toHaveBeenCalledTimes(1);
  });
});
