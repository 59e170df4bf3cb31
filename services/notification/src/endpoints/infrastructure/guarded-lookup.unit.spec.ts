import type { LookupAddress, LookupOptions } from 'node:dns';
import * as http from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { endpointUrlProblems } from '../domain/address-policy';
import { guardedLookup, type Resolver } from './guarded-lookup';

/** A resolver that gives its answers in turn, one per call, and counts the calls. */
function scriptedResolver(...answers: (readonly LookupAddress[])[]): Resolver & { calls: number } {
  const resolver = Object.assign(
    async (_hostname: string, _options: LookupOptions) => answers[Math.min(resolver.calls++, answers.length - 1)],
    { calls: 0 },
  );
  return resolver;
}

type Looked = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookUp(lookup: LookupFunction, hostname: string, options: LookupOptions): Promise<Looked> {
  return new Promise((resolve) => lookup(hostname, options, (error, address, family) => resolve({ error, address, family })));
}

const publicAnswer = [{ address: '93.184.215.14', family: 4 }];
const loopbackAnswer = [{ address: '127.0.0.1', family: 4 }];

describe('guarded lookup', () => {
  it('judges every lookup afresh: a name that rebinds to loopback is refused on the connection that would use it', async () => {
    const resolver = scriptedResolver(publicAnswer, loopbackAnswer);
    const lookup = guardedLookup({ allowPrivate: false }, resolver);

    const first = await lookUp(lookup, 'rebind.example', {});
    expect(first).toEqual({ error: null, address: '93.184.215.14', family: 4 });

    const second = await lookUp(lookup, 'rebind.example', {});
    expect(second.error).toMatchObject({
      code: 'ESSRF',
      hostname: 'rebind.example',
      address: '127.0.0.1',
      message: 'refused to connect to rebind.example: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed',
    });
    expect(resolver.calls).toBe(2); // once per connection: nothing is looked up again after the check
  });

  it.each([
    ['all answers, as happy eyeballs asks', { all: true }, { error: null, address: [{ address: '93.184.215.14', family: 4 }, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }] }],
    ['one answer, the first', {}, { error: null, address: '93.184.215.14', family: 4 }],
  ])('hands over exactly the judged addresses: %s', async (_case, options, looked) => {
    const resolver = scriptedResolver([...publicAnswer, { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 }]);
    expect(await lookUp(guardedLookup({ allowPrivate: false }, resolver), 'example.com', options)).toEqual(looked);
  });

  it.each([
    [{ allowPrivate: false }, { all: true }, 'ESSRF'],
    [{ allowPrivate: false }, {}, 'ESSRF'],
    [{ allowPrivate: true }, { all: true }, null],
  ])('refuses a mixed answer (public and private) when %j, whatever address the socket would pick', async (settings, options, code) => {
    const mixed = [...publicAnswer, { address: '10.0.0.7', family: 4 }];
    const looked = await lookUp(guardedLookup(settings, scriptedResolver(mixed)), 'mixed.example', options);
    expect(looked.error?.code ?? null).toBe(code);
    if (code) expect(looked.error).toMatchObject({ address: '10.0.0.7' });
    else expect(looked.address).toEqual(mixed);
  });

  it('refuses a link-local (metadata service) answer even when private addresses are allowed', async () => {
    const looked = await lookUp(guardedLookup({ allowPrivate: true }, scriptedResolver([{ address: '169.254.169.254', family: 4 }])), 'metadata.example', {});
    expect(looked.error).toMatchObject({ code: 'ESSRF', address: '169.254.169.254' });
  });

  it('passes the resolver errors through and treats an empty answer as not found', async () => {
    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    };
    expect((await lookUp(guardedLookup({ allowPrivate: false }, failing), 'nowhere.invalid', {})).error?.code).toBe('ENOTFOUND');
    expect((await lookUp(guardedLookup({ allowPrivate: false }, scriptedResolver([])), 'empty.example', { all: true })).error?.code).toBe('ENOTFOUND');
  });

  describe('as the lookup of an http.Agent', () => {
    let server: http.Server;
    let port: number;

    beforeAll(async () => {
      server = http.createServer((_request, response) => response.end('reached'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    function post(url: string, lookup: LookupFunction): Promise<{ status: number; body: string }> {
      const agent = new http.Agent({ lookup });
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(url, { method: 'POST', agent }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
        request.end('{}');
      }).finally(() => agent.destroy());
    }

    it('refuses to connect to localhost with ESSRF', async () => {
      await expect(post(`http://localhost:${port}/hook`, guardedLookup({ allowPrivate: false }))).rejects.toMatchObject({ code: 'ESSRF', hostname: 'localhost' });
    });

    it('connects to localhost when private addresses are allowed', async () => {
      await expect(post(`http://localhost:${port}/hook`, guardedLookup({ allowPrivate: true }))).resolves.toEqual({ status: 200, body: 'reached' });
    });

    it('is never asked about an IP-literal host, which is why the URL check judges those', async () => {
      const resolver = scriptedResolver(publicAnswer);
      await expect(post(`http://127.0.0.1:${port}/hook`, guardedLookup({ allowPrivate: false }, resolver))).resolves.toMatchObject({ status: 200 });
      expect(resolver.calls).toBe(0);
      expect(endpointUrlProblems(`http://127.0.0.1:${port}/hook`, { allowHttp: true, allowPrivate: false })).toEqual([
        { field: 'url', problem: 'host 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed' },
      ]);
    });
  });
});
