// Prints a bearer token for every service's HTTP API, signed with AUTH_JWT_SECRET (or the
// development secret the services use when none is set).
//   npm run token -- ops            an ops token
//   npm run token -- customer acme  a token that sees only customer acme
import { DEVELOPMENT_JWT_SECRET, signToken } from '@flotilla/service-kit';

async function main() {
  const [role = 'ops', customerId] = process.argv.slice(2);
  if (role !== 'ops' && role !== 'customer') throw new Error('usage: npm run token -- ops | customer <customerId>');
  if (role === 'customer' && !customerId) throw new Error('a customer token needs the customer id: npm run token -- customer <customerId>');
  const jwt = await signToken(
    { role, customerId, sub: role === 'ops' ? 'ops-cli' : `customer-${customerId}` },
    { secret: process.env.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET, expiresIn: '12h' },
  );
  process.stdout.write(`${jwt}\n`);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
