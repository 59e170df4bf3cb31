import { FlotillaError } from '@flotilla/domain';

/**
 * Who is asking, from a verified JWT bearer token: `ops` sees and changes everything; `customer` sees
 * and changes only the data of its own `customerId`. Every HTTP API of every service uses this.
 */
export interface Principal {
  readonly subject: string;
  readonly role: 'ops' | 'customer';
  /** Set for role `customer`; null for `ops`. */
  readonly customerId: string | null;
}

/** Verifies a bearer token (HS256 or RS256 by configuration) or throws an `AuthError`. */
export interface Authenticator {
  authenticate(token: string | null): Promise<Principal>;
}

/** 401 (no or bad token) or 403 (valid token, not allowed), with the reason for the caller. */
export class AuthError extends FlotillaError {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message, status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', false);
  }
}

/** Too many requests for one token subject: 429 with Retry-After. */
export class RateLimitedError extends FlotillaError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 'RATE_LIMITED', true);
  }
}

/** A customer acts only for itself; ops for anyone. Throws 403 naming both customers. */
export function assertMayActFor(principal: Principal, customerId: string | null | undefined): void {
  if (principal.role === 'ops') return;
  if (customerId !== principal.customerId) {
    throw new AuthError(403, `a customer token may only act for customer ${principal.customerId}, not ${customerId ?? '(none)'}`);
  }
}

/** Operations on the platform itself (capacity, pools, rebuilds, the overview) are for ops. */
export function assertOps(principal: Principal, what: string): void {
  if (principal.role !== 'ops') throw new AuthError(403, `${what} is for role ops; this token has role ${principal.role}`);
}

export const AUTHENTICATOR = Symbol('AUTHENTICATOR');
