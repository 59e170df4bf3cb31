import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { FlotillaError } from '@flotilla/domain';
import { checkAddress, type AddressSettings } from '../domain/address-policy';

/** Answers a name with all its addresses. Injectable so a spec can play a rebinding DNS server. */
export type Resolver = (hostname: string, options: LookupOptions) => Promise<readonly LookupAddress[]>;

export const systemResolver: Resolver = (hostname, options) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/** A delivery refused because the endpoint's name resolved to an address the policy forbids. */
export class AddressRefusedError extends FlotillaError {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    // Not retriable as such: the delivery counts as a failed attempt and follows its schedule, like
    // any other endpoint that cannot be reached.
    super(`refused to connect to ${hostname}: ${reason}`, 'ESSRF', false);
  }
}

/**
 * The `lookup` option of `net.connect`, `http.Agent`, `https.Agent` and undici's `connect`, that refuses
 * forbidden addresses. It defeats DNS rebinding (a name that answers a public address when checked and
 * 127.0.0.1 when connected) because the check IS the connection's own lookup: the name is resolved
 * once, every answer is judged, and the connection receives exactly the answers that were judged.
 * One forbidden answer refuses the whole name, since the socket may try any of them (happy eyeballs).
 *
 * IP-literal hosts never reach a lookup (net connects to them directly): `endpointUrlProblems` judges those.
 */
export function guardedLookup(settings: AddressSettings, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    void resolve(hostname, options).then(
      (addresses) => {
        for (const { address } of addresses) {
          const verdict = checkAddress(address, settings);
          if (!verdict.allowed) return callback(new AddressRefusedError(hostname, address, verdict.reason), options.all ? [] : '');
        }
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND', hostname }), options.all ? [] : '');
        if (options.all) return callback(null, addresses.map(({ address, family }) => ({ address, family })));
        return callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, options.all ? [] : ''),
    );
  };
}
