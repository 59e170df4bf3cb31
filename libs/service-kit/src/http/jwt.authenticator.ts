import { errors, importSPKI, jwtVerify, type JWTPayload, type KeyLike } from 'jose';
import { AuthError, type Authenticator, type Principal } from './principal';

export interface JwtSettings {
  readonly algorithm: 'HS256' | 'RS256';
  /** HS256 shared secret. */
  readonly secret?: string;
  /** RS256 public key, PEM (SPKI). */
  readonly publicKey?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** Maps verified claims to a principal: `role` is ops or customer, and a customer carries its `customerId`. */
export function principalFromClaims(claims: JWTPayload): Principal {
  const subject = typeof claims.sub === 'string' && claims.sub ? claims.sub : null;
  if (!subject) throw new AuthError(401, 'token has no subject (sub)');
  if (claims.role === 'ops') return { subject, role: 'ops', customerId: null };
  if (claims.role === 'customer') {
    if (typeof claims.customerId !== 'string' || !claims.customerId) throw new AuthError(401, 'a customer token must carry customerId');
    return { subject, role: 'customer', customerId: claims.customerId };
  }
  throw new AuthError(403, `role ${JSON.stringify(claims.role ?? null)} has no access; expected ops or customer`);
}

/** Verifies bearer tokens with jose (signature, algorithm, expiry, issuer and audience when configured). */
export class JwtAuthenticator implements Authenticator {
  private constructor(
    private readonly key: KeyLike | Uint8Array,
    private readonly settings: JwtSettings,
  ) {}

  static async create(settings: JwtSettings): Promise<JwtAuthenticator> {
    if (settings.algorithm === 'RS256') {
      if (!settings.publicKey) throw new Error('AUTH_JWT_PUBLIC_KEY is required for RS256');
      return new JwtAuthenticator(await importSPKI(settings.publicKey, 'RS256'), settings);
    }
    if (!settings.secret) throw new Error('AUTH_JWT_SECRET is required for HS256');
    return new JwtAuthenticator(new TextEncoder().encode(settings.secret), settings);
  }

  async authenticate(token: string | null): Promise<Principal> {
    if (!token) throw new AuthError(401, 'a bearer token is required (Authorization: Bearer <jwt>)');
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: [this.settings.algorithm], issuer: this.settings.issuer, audience: this.settings.audience });
      return principalFromClaims(payload);
    } catch (error) {
      if (error instanceof AuthError) throw error;
      if (error instanceof errors.JWTExpired) throw new AuthError(401, 'token expired');
      if (error instanceof errors.JOSEError) throw new AuthError(401, `invalid token: ${error.message}`);
      throw error;
    }
  }
}
