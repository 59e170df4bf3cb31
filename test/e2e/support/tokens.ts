import { signToken, type TokenClaims } from '../../../services/projection/src/http/auth/tokens';

export { DEVELOPMENT_JWT_SECRET } from '../../../services/projection/src/http/auth/tokens';

/** A signed HS256 bearer token for the projection's query API. */
export function token(claims: TokenClaims, secret?: string): Promise<string> {
  return signToken(claims, { secret });
}
