/**
 * Who is asking, from a verified JWT bearer token: `ops` sees everything; `customer` sees only the
 * data of its own `customerId`. The query API, the live stream and the dashboard all use this.
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
export class AuthError extends Error {
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export const AUTHENTICATOR = Symbol('AUTHENTICATOR');
