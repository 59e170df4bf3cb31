import { AuthError, type Principal } from '@flotilla/service-kit';

/** A customer sees only its own data: its own id is forced, asking for another's is refused. */
export function scopeCustomer(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.role === 'ops') return requested;
  if (requested !== undefined && requested !== principal.customerId) throw new AuthError(403, `a customer token may only read customer ${principal.customerId}`);
  return principal.customerId!;
}
