import { signToken, type TokenClaims } from '@flotilla/service-kit';

export { DEVELOPMENT_JWT_SECRET } from '@flotilla/service-kit';

/** A signed HS256 bearer token for the projection's query API. */
export function token(claims: TokenClaims, secret?: string): Promise<string> {
  return signToken(claims, { secret });
}
