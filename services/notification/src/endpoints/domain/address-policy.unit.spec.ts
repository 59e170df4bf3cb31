import { checkAddress, endpointUrlProblems } from './address-policy';

const strict = { allowPrivate: false };
const lenient = { allowPrivate: true };

describe('address policy', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['172.15.255.255'], // just below 172.16/12
    ['172.32.0.1'], // just above it
    ['100.63.255.255'], // just below 100.64/10
    ['100.128.0.1'], // just above it
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:80b::200e'],
    ['::ffff:8.8.8.8'],
    ['64:ff9b::808:808'], // NAT64 for 8.8.8.8
  ])('allows the public address %s', (ip) => {
    expect(checkAddress(ip, strict)).toEqual({ allowed: true });
    expect(checkAddress(ip, lenient)).toEqual({ allowed: true });
  });

  // ip, reason while private addresses are refused; allowPrivate lets exactly these through.
  it.each([
    ['127.0.0.1', '127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['127.255.255.254', '127.255.255.254 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['10.0.0.1', '10.0.0.1 is a private address (RFC 1918), and private addresses are not allowed'],
    ['172.16.0.1', '172.16.0.1 is a private address (RFC 1918), and private addresses are not allowed'],
    ['172.31.255.255', '172.31.255.255 is a private address (RFC 1918), and private addresses are not allowed'],
    ['192.168.1.1', '192.168.1.1 is a private address (RFC 1918), and private addresses are not allowed'],
    ['100.64.0.1', '100.64.0.1 is a carrier-grade NAT address (100.64.0.0/10), and private addresses are not allowed'],
    ['100.127.255.255', '100.127.255.255 is a carrier-grade NAT address (100.64.0.0/10), and private addresses are not allowed'],
    ['::1', '::1 is the loopback address (::1), and private addresses are not allowed'],
    ['fc00::1', 'fc00::1 is a unique local address (fc00::/7), and private addresses are not allowed'],
    ['fd12:3456:789a::1', 'fd12:3456:789a::1 is a unique local address (fc00::/7), and private addresses are not allowed'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1 embeds 127.0.0.1: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['::ffff:7f00:1', '::ffff:7f00:1 embeds 127.0.0.1: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['::ffff:a00:1', '::ffff:a00:1 embeds 10.0.0.1: 10.0.0.1 is a private address (RFC 1918), and private addresses are not allowed'],
    ['::ffff:0:7f00:1', '::ffff:0:7f00:1 embeds 127.0.0.1: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['::7f00:1', '::7f00:1 embeds 127.0.0.1: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['::192.168.0.1', '::192.168.0.1 embeds 192.168.0.1: 192.168.0.1 is a private address (RFC 1918), and private addresses are not allowed'],
    ['64:ff9b::7f00:1', '64:ff9b::7f00:1 embeds 127.0.0.1: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed'],
    ['64:ff9b::10.1.2.3', '64:ff9b::10.1.2.3 embeds 10.1.2.3: 10.1.2.3 is a private address (RFC 1918), and private addresses are not allowed'],
  ])('refuses the private address %s unless private addresses are allowed', (ip, reason) => {
    expect(checkAddress(ip, strict)).toEqual({ allowed: false, reason });
    expect(checkAddress(ip, lenient)).toEqual({ allowed: true });
  });

  // Refused whatever the settings: nothing legitimate answers a webhook there.
  it.each([
    ['0.0.0.0', '0.0.0.0 is in 0.0.0.0/8 ("this network")'],
    ['0.1.2.3', '0.1.2.3 is in 0.0.0.0/8 ("this network")'],
    ['169.254.169.254', '169.254.169.254 is a link-local address (169.254.0.0/16, where cloud metadata services answer)'],
    ['224.0.0.1', '224.0.0.1 is a multicast address (224.0.0.0/4)'],
    ['239.255.255.250', '239.255.255.250 is a multicast address (224.0.0.0/4)'],
    ['255.255.255.255', '255.255.255.255 is the broadcast address'],
    ['240.0.0.1', '240.0.0.1 is a reserved address (documentation, benchmarking or 240.0.0.0/4)'],
    ['192.0.2.1', '192.0.2.1 is a reserved address (documentation, benchmarking or 240.0.0.0/4)'],
    ['198.18.0.1', '198.18.0.1 is a reserved address (documentation, benchmarking or 240.0.0.0/4)'],
    ['::', ':: is the unspecified address (::)'],
    ['fe80::1', 'fe80::1 is a link-local address (fe80::/10)'],
    ['fe80::1%eth0', 'fe80::1%eth0 is a link-local address (fe80::/10)'],
    ['febf::1', 'febf::1 is a link-local address (fe80::/10)'],
    ['ff02::1', 'ff02::1 is a multicast address (ff00::/8)'],
    ['ff0e::1', 'ff0e::1 is a multicast address (ff00::/8)'],
    ['2001:db8::1', '2001:db8::1 is in the special-purpose range "reserved"'],
    ['2002:7f00:1::1', '2002:7f00:1::1 is a 6to4 tunnel address (2002::/16)'],
    ['2001:0:4136:e378::1', '2001:0:4136:e378::1 is a Teredo tunnel address (2001::/32)'],
    ['::ffff:169.254.169.254', '::ffff:169.254.169.254 embeds 169.254.169.254: 169.254.169.254 is a link-local address (169.254.0.0/16, where cloud metadata services answer)'],
    ['::ffff:0.0.0.0', '::ffff:0.0.0.0 embeds 0.0.0.0: 0.0.0.0 is in 0.0.0.0/8 ("this network")'],
    ['64:ff9b::e000:1', '64:ff9b::e000:1 embeds 224.0.0.1: 224.0.0.1 is a multicast address (224.0.0.0/4)'],
    ['64:ff9b:1::a00:1', '64:ff9b:1::a00:1 is in the local-use NAT64 prefix (64:ff9b:1::/48), whose embedded IPv4 address cannot be located'],
    // Not standard notation: a resolver could read these differently from the check.
    ['127.1', '"127.1" is not an IP address in standard notation'],
    ['0x7f000001', '"0x7f000001" is not an IP address in standard notation'],
    ['2130706433', '"2130706433" is not an IP address in standard notation'],
    ['010.0.0.1', '"010.0.0.1" is not an IP address in standard notation'],
    ['example.com', '"example.com" is not an IP address in standard notation'],
    ['', '"" is not an IP address in standard notation'],
  ])('always refuses %s', (ip, reason) => {
    expect(checkAddress(ip, strict)).toEqual({ allowed: false, reason });
    expect(checkAddress(ip, lenient)).toEqual({ allowed: false, reason });
  });

  describe('endpoint URLs', () => {
    const production = { allowHttp: false, allowPrivate: false };
    const development = { allowHttp: true, allowPrivate: true };

    it.each([
      ['https://hooks.example.com/flotilla', production],
      ['https://hooks.example.com:8443/flotilla?team=a', production],
      ['https://8.8.8.8/hook', production],
      ['https://[2606:4700:4700::1111]/hook', production],
      ['http://localhost:3000/hook', development],
      ['http://127.0.0.1:3000/hook', development],
      ['http://[::1]:3000/hook', development],
    ])('accepts %s', (url, settings) => {
      expect(endpointUrlProblems(url, settings)).toEqual([]);
    });

    it.each([
      ['not a url', production, ['"not a url" is not an absolute URL']],
      ['/relative/path', production, ['"/relative/path" is not an absolute URL']],
      ['http://hooks.example.com/', production, ['the scheme must be https, got http']],
      ['ftp://hooks.example.com/', development, ['the scheme must be https or http, got ftp']],
      ['mailto:ops@example.com', production, ['the scheme must be https, got mailto', 'the URL has no host']],
      ['https://user:secret@hooks.example.com/', production, ['credentials in the URL are not allowed: the webhook signature authenticates us to the receiver']],
      ['https://user@hooks.example.com/', production, ['credentials in the URL are not allowed: the webhook signature authenticates us to the receiver']],
      ['https://127.0.0.1/hook', production, ['host 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed']],
      ['https://0x7f.1/hook', production, ['host 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed']],
      ['https://2130706433/hook', production, ['host 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed']],
      ['https://[::1]/hook', production, ['host ::1 is the loopback address (::1), and private addresses are not allowed']],
      ['https://[::ffff:127.0.0.1]/hook', production, ['host ::ffff:7f00:1 embeds 127.0.0.1: 127.0.0.1 is a loopback address (127.0.0.0/8), and private addresses are not allowed']],
      ['https://169.254.169.254/latest/meta-data/', development, ['host 169.254.169.254 is a link-local address (169.254.0.0/16, where cloud metadata services answer)']],
      ['http://admin:pw@10.0.0.5/', production, [
        'the scheme must be https, got http',
        'credentials in the URL are not allowed: the webhook signature authenticates us to the receiver',
        'host 10.0.0.5 is a private address (RFC 1918), and private addresses are not allowed',
      ]],
    ])('finds the problems of %s', (url, settings, problems) => {
      expect(endpointUrlProblems(url, settings)).toEqual(problems.map((problem) => ({ field: 'url', problem })));
    });

    it('names the field it is given', () => {
      expect(endpointUrlProblems('http://x.example/', production, 'endpoints[2].url')).toEqual([{ field: 'endpoints[2].url', problem: 'the scheme must be https, got http' }]);
    });
  });
});
