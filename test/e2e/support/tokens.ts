import { SignJWT } from 'jose';

/** The projection's development secret (used when AUTH_JWT_SECRET is not set), as in the demo. */
export const DEVELOPMENT_JWT_SECRET = 'flotilla-development-secret-do-not-use-in-production';

/** A signed HS256 bearer token for the projection's query API. */
export async function token(claims: { sub?: string; role: 'ops' | 'customer' | string; customerId?: string }, secret = DEVELOPMENT_JWT_SECRET): Promise<string> {
  return new SignJWT({ role: claims.role, ...(claims.customerId ? { customerId: claims.customerId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? `${claims.role}-${claims.customerId ?? 'all'}`)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}
