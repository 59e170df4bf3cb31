import { createParamDecorator, Inject, Injectable, Optional, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AUTHENTICATOR, AuthError, RateLimitedError, type Authenticator, type Principal } from './principal';

/** Optional: a service that rate-limits its API provides one (the projection counts in Redis). */
export const RATE_LIMITER = Symbol('RATE_LIMITER');

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

const PUBLIC_ROUTE = Symbol('PUBLIC_ROUTE');
const REQUIRED_ROLE = Symbol('REQUIRED_ROLE');

/** A route anyone may call: liveness, readiness, metrics, the dashboard page (its data needs a token). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** A route (or controller) for one role only: 403 for the other. */
export const RequireRole = (role: Principal['role']) => SetMetadata(REQUIRED_ROLE, role);

/** The verified principal of the request (set by the guard). */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new AuthError(401, 'no principal: the route is public');
  return principal;
});

/**
 * Every route of every service, unless marked @Public(): a verified bearer token (401 with the reason,
 * or 403 for a role the route is not for), then the token's rate limit where the service has one
 * (429 with Retry-After). Tokens come in `Authorization: Bearer`, or `?access_token=` where a client
 * cannot set headers (EventSource).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Optional() @Inject(RATE_LIMITER) private readonly limiter: RateLimiterAbstract | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : ((request.query as Record<string, string> | undefined)?.access_token ?? null);
    const principal = await this.authenticator.authenticate(token);
    request.principal = principal;
    const role = this.reflector.getAllAndOverride<Principal['role'] | undefined>(REQUIRED_ROLE, targets);
    if (role && principal.role !== role) throw new AuthError(403, `this route is for role ${role}; this token has role ${principal.role}`);
    await this.consumeRateLimit(principal, context.switchToHttp().getResponse<FastifyReply>());
    return true;
  }

  private async consumeRateLimit(principal: Principal, _reply: FastifyReply): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(principal.subject);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new RateLimitedError(`rate limit of ${this.limiter.points} requests per ${this.limiter.duration} s exceeded; retry in ${retryAfter} s`, retryAfter);
    }
  }
}
