import { SignJWT } from 'jose';

/**
 * Used when AUTH_JWT_SECRET is not set, and then only for local demos and tests: the service warns
 * at start. The CLI (`npm run token`), the demo and the tests sign with it too.
 */
export const DEVELOPMENT_JWT_SECRET = 'flotilla-development-secret-do-not-use-in-production';

export interface TokenClaims {
  readonly role: 'ops' | 'customer' | string;
  readonly customerId?: string;
  /** Whom the token is for; the rate limit counts per subject. */
  readonly sub?: string;
}

/** An HS256 bearer token for the query API. */
export function signToken(claims: TokenClaims, { secret = DEVELOPMENT_JWT_SECRET, expiresIn = '1h' } = {}): Promise<string> {
  return new SignJWT({ role: claims.role, ...(claims.customerId ? { customerId: claims.customerId } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? `${claims.role}-${claims.customerId ?? 'all'}`)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
