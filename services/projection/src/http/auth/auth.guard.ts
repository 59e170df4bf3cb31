import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AUTHENTICATOR, AuthError, type Authenticator, type Principal } from './principal';

export const RATE_LIMITER = Symbol('RATE_LIMITER');

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/**
 * Every query route: a verified bearer token (401/403 with the reason), then the token's rate limit,
 * counted in Redis so that every projection instance shares it (429 with Retry-After).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiterAbstract,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ((request.query as Record<string, string> | undefined)?.access_token ?? null);
    try {
      request.principal = await this.authenticator.authenticate(token);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      if (error.status === 401) reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`);
      throw new HttpException({ statusCode: error.status, error: error.status === 401 ? 'Unauthorized' : 'Forbidden', message: error.message }, error.status);
    }
    try {
      await this.limiter.consume(request.principal.subject);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      reply.header('retry-after', String(retryAfter));
      throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: `rate limit of ${this.limiter.points} requests per ${this.limiter.duration} s exceeded; retry in ${retryAfter} s` }, 429);
    }
    return true;
  }
}
