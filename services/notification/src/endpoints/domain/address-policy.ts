import type { FieldProblem } from '@flotilla/domain';
import ipaddr from 'ipaddr.js';

/**
 * Which addresses a webhook may be delivered to (server-side request forgery). Customers choose the URL,
 * so without this a webhook is a way to make our workers POST to our own databases, admin ports or the
 * cloud's metadata service. The ranges are ipaddr.js's (IANA special-purpose registries); only ordinary
 * unicast passes, and anything ipaddr.js has a special name for is refused.
 */
export interface AddressSettings {
  /**
   * Lets loopback, RFC 1918, carrier-grade NAT and IPv6 unique-local addresses through: networks an
   * operator may run its own receivers on (development, on-premises). Link-local stays refused even so:
   * 169.254.169.254 is where cloud metadata services hand out credentials.
   */
  readonly allowPrivate: boolean;
}

export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

type Judgement = 'public' | 'private' | 'never';

const IPV4_RANGES: Readonly<Record<string, { readonly judgement: Judgement; readonly what: string }>> = {
  unicast: { judgement: 'public', what: 'a public address' },
  loopback: { judgement: 'private', what: 'a loopback address (127.0.0.0/8)' },
  private: { judgement: 'private', what: 'a private address (RFC 1918)' },
  carrierGradeNat: { judgement: 'private', what: 'a carrier-grade NAT address (100.64.0.0/10)' },
  linkLocal: { judgement: 'never', what: 'a link-local address (169.254.0.0/16, where cloud metadata services answer)' },
  unspecified: { judgement: 'never', what: 'in 0.0.0.0/8 ("this network")' },
  broadcast: { judgement: 'never', what: 'the broadcast address' },
  multicast: { judgement: 'never', what: 'a multicast address (224.0.0.0/4)' },
  reserved: { judgement: 'never', what: 'a reserved address (documentation, benchmarking or 240.0.0.0/4)' },
};

const IPV6_RANGES: Readonly<Record<string, { readonly judgement: Judgement; readonly what: string }>> = {
  unicast: { judgement: 'public', what: 'a public address' },
  loopback: { judgement: 'private', what: 'the loopback address (::1)' },
  uniqueLocal: { judgement: 'private', what: 'a unique local address (fc00::/7)' },
  deprecatedSiteLocal: { judgement: 'private', what: 'a site-local address (fec0::/10)' },
  linkLocal: { judgement: 'never', what: 'a link-local address (fe80::/10)' },
  unspecified: { judgement: 'never', what: 'the unspecified address (::)' },
  multicast: { judgement: 'never', what: 'a multicast address (ff00::/8)' },
  // Tunnels carry an IPv4 address we would have to trust a relay to reach faithfully.
  '6to4': { judgement: 'never', what: 'a 6to4 tunnel address (2002::/16)' },
  teredo: { judgement: 'never', what: 'a Teredo tunnel address (2001::/32)' },
};

/** Judges one resolved or literal address. Only standard notation is read: see `parseStrict`. */
export function checkAddress(ip: string, settings: AddressSettings): AddressVerdict {
  const address = parseStrict(ip);
  if (address === null) return { allowed: false, reason: `${JSON.stringify(ip)} is not an IP address in standard notation` };
  if (address.kind() === 'ipv4') return judge(ip, IPV4_RANGES, address.range(), settings);

  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded === 'unlocatable') return { allowed: false, reason: `${ip} is in the local-use NAT64 prefix (64:ff9b:1::/48), whose embedded IPv4 address cannot be located` };
  if (embedded !== null) {
    // The kernel or a NAT64 gateway will connect to the IPv4 address inside, so that is what is judged.
    const inner = checkAddress(embedded.toString(), settings);
    return inner.allowed ? inner : { allowed: false, reason: `${ip} embeds ${embedded.toString()}: ${inner.reason}` };
  }
  return judge(ip, IPV6_RANGES, v6.range(), settings);
}

function judge(ip: string, ranges: typeof IPV4_RANGES, range: string, settings: AddressSettings): AddressVerdict {
  const known = ranges[range];
  if (known?.judgement === 'public') return { allowed: true };
  if (known?.judgement === 'private' && settings.allowPrivate) return { allowed: true };
  if (known?.judgement === 'private') return { allowed: false, reason: `${ip} is ${known.what}, and private addresses are not allowed` };
  return { allowed: false, reason: `${ip} is ${known?.what ?? `in the special-purpose range "${range}"`}` };
}

/**
 * IPv4 only as four decimal parts, IPv6 as IPv6. ipaddr.js also reads `127.1`, `0x7f000001` and `010.0.0.1`,
 * and a resolver may read the octal one differently (inet_aton: 8.0.0.1), so a check and a connection
 * could disagree on what the same string means. Resolvers and the URL parser both produce standard notation.
 */
function parseStrict(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(ip)) return ipaddr.IPv4.parse(ip);
  if (ipaddr.IPv6.isValid(ip)) return ipaddr.IPv6.parse(ip);
  return null;
}

const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
const WELL_KNOWN_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d, also written ::ffff:7f00:1), IPv4-translated
 * (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d) or well-known NAT64 (64:ff9b::a.b.c.d) address.
 * :: and ::1 are named as themselves by ipaddr.js, so they never reach the IPv4-compatible case.
 */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | 'unlocatable' | null {
  const range = address.range();
  const inner = () => ipaddr.IPv4.parse(address.toByteArray().slice(12).join('.'));
  if (range === 'ipv4Mapped' || range === 'rfc6145') return inner();
  if (range === 'rfc6052') return address.match(WELL_KNOWN_NAT64) ? inner() : 'unlocatable';
  if (range === 'unicast' && address.match(IPV4_COMPATIBLE)) return inner();
  return null;
}

export interface UrlSettings extends AddressSettings {
  /** Plain http, for local development only: a webhook carries customer data and its signature in the clear. */
  readonly allowHttp: boolean;
}

/**
 * What is wrong with an endpoint URL itself, before any DNS: the scheme, credentials, the host, and a
 * host written as an IP literal. A host name is judged at connect time by the guarded lookup, on every
 * connection, because its answers can change; an IP literal never goes through a lookup, so this is
 * where it is judged (and should be again before each delivery, in case the settings changed).
 */
export function endpointUrlProblems(url: string, settings: UrlSettings, field = 'url'): FieldProblem[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [{ field, problem: `${JSON.stringify(url)} is not an absolute URL` }];
  }
  const problems: FieldProblem[] = [];
  const schemes = settings.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(parsed.protocol)) {
    problems.push({ field, problem: `the scheme must be ${settings.allowHttp ? 'https or http' : 'https'}, got ${parsed.protocol.replace(/:$/, '')}` });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // They would be stored and shown wherever the URL is, and sent in the clear by any proxy log.
    problems.push({ field, problem: 'credentials in the URL are not allowed: the webhook signature authenticates us to the receiver' });
  }
  if (parsed.hostname === '') {
    problems.push({ field, problem: 'the URL has no host' });
    return problems;
  }
  // The WHATWG parser has already turned 0x7f.1 and 2130706433 into 127.0.0.1; IPv6 comes bracketed.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host)) {
    const verdict = checkAddress(host, settings);
    if (!verdict.allowed) problems.push({ field, problem: `host ${verdict.reason}` });
  }
  return problems;
}
