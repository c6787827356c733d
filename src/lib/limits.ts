import type { LimitResult } from '../../durable-objects/rate-limiter';
import { ApiError } from './errors';

export function limiter(env: Env, key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));
}

/** Counts one event for `key`; throws 429 with Retry-After and the IETF RateLimit headers when over. */
export async function enforceLimit(env: Env, key: string, policy: { limit: number; windowSeconds: number; name: string }): Promise<LimitResult> {
  const result = await limiter(env, key).hit(policy.limit, policy.windowSeconds * 1000);
  if (!result.allowed) {
    const retryAfter = Math.max(1, Math.ceil((result.resetAt - Date.now()) / 1000));
    throw new ApiError('rate_limited', 'Too many attempts; try again later', {
      details: { policy: policy.name, retry_after_seconds: retryAfter },
      headers: {
        'Retry-After': String(retryAfter),
        'RateLimit-Policy': `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`,
        RateLimit: `"${policy.name}";r=0;t=${retryAfter}`,
      },
    });
  }
  return result;
}
