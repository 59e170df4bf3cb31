import type { Logger } from '@flotilla/observability';
import { z } from 'zod';
import { JwtAuthenticator } from './jwt.authenticator';
import { DEVELOPMENT_JWT_SECRET } from './tokens';

/** Bearer-token settings every service reads: one authenticator for every HTTP API. */
export const authConfigShape = {
  AUTH_JWT_ALGORITHM: z.enum(['HS256', 'RS256']).default('HS256'),
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().optional(),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
};

export interface AuthConfig {
  readonly AUTH_JWT_ALGORITHM: 'HS256' | 'RS256';
  readonly AUTH_JWT_SECRET?: string;
  readonly AUTH_JWT_PUBLIC_KEY?: string;
  readonly AUTH_JWT_ISSUER?: string;
  readonly AUTH_JWT_AUDIENCE?: string;
}

/** The authenticator of the configuration; without a secret, the development one, said loudly at start. */
export function createAuthenticator(config: AuthConfig, logger: Logger): Promise<JwtAuthenticator> {
  if (config.AUTH_JWT_ALGORITHM === 'HS256' && !config.AUTH_JWT_SECRET) logger.warn('AUTH_JWT_SECRET is not set: using the development secret; set it anywhere but a laptop');
  return JwtAuthenticator.create({
    algorithm: config.AUTH_JWT_ALGORITHM,
    secret: config.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
    publicKey: config.AUTH_JWT_PUBLIC_KEY,
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
  });
}
