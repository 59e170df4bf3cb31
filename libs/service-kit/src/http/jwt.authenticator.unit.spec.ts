import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { JwtAuthenticator } from './jwt.authenticator';
import { AuthError } from './principal';

const sign = (claims: Record<string, unknown>, key: Parameters<SignJWT['sign']>[0], alg = 'HS256', expires = '5m') =>
  new SignJWT(claims).setProtectedHeader({ alg }).setSubject('someone').setIssuedAt().setExpirationTime(expires).sign(key);

describe('JWT authenticator', () => {
  const secret = new TextEncoder().encode('a-test-secret-that-is-long-enough');

  it('maps HS256 claims to ops and customer principals', async () => {
    const auth = await JwtAuthenticator.create({ algorithm: 'HS256', secret: 'a-test-secret-that-is-long-enough' });
    expect(await auth.authenticate(await sign({ role: 'ops' }, secret))).toEqual({ subject: 'someone', role: 'ops', customerId: null });
    expect(await auth.authenticate(await sign({ role: 'customer', customerId: 'acme' }, secret))).toEqual({ subject: 'someone', role: 'customer', customerId: 'acme' });
  });

  it('refuses missing, expired, forged and incomplete tokens with 401, unknown roles with 403', async () => {
    const auth = await JwtAuthenticator.create({ algorithm: 'HS256', secret: 'a-test-secret-that-is-long-enough' });
    const reject = (token: string | null) => auth.authenticate(token).then(() => null, (error: AuthError) => [error.status, error.message]);
    expect(await reject(null)).toEqual([401, 'a bearer token is required (Authorization: Bearer <jwt>)']);
    expect(await reject(await sign({ role: 'ops' }, secret, 'HS256', '-1m'))).toEqual([401, 'token expired']);
    expect((await reject(await sign({ role: 'ops' }, new TextEncoder().encode('another-secret-of-enough-length'))))![0]).toBe(401);
    expect(await reject(await sign({ role: 'customer' }, secret))).toEqual([401, 'a customer token must carry customerId']);
    expect(await reject(await sign({ role: 'root' }, secret))).toEqual([403, 'role "root" has no access; expected ops or customer']);
  });

  it('verifies RS256 with the public key and refuses an HS256 token signed with it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const auth = await JwtAuthenticator.create({ algorithm: 'RS256', publicKey: await exportSPKI(publicKey) });
    expect((await auth.authenticate(await sign({ role: 'ops' }, privateKey, 'RS256'))).role).toBe('ops');
    await expect(auth.authenticate(await sign({ role: 'ops' }, secret))).rejects.toMatchObject({ status: 401 });
  });
});
