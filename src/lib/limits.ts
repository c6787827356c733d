import type { LimitResult } from '../../durable-objects/rate-limiter';
import { ApiError } from './errors';

export function limiter(env: Env, key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(key));
}

/**
 * The IETF rate-limit fields (draft-ietf-httpapi-ratelimit-headers, structured-field syntax):
 * `RateLimit-Policy: "name";q=<quota>;w=<window seconds>` and
 * `RateLimit: "name";r=<remaining>;t=<seconds until the window resets>`. Policy names are
 * restricted to `[a-z0-9._-]`, so they need no escaping inside the quoted string.
 */
export function rateLimitHeaders(
  policy: { name: string; limit: number; windowSeconds: number },
  remaining: number,
  resetSeconds: number,
): Record<string, string> {
  return {
    'RateLimit-Policy': `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`,
    RateLimit: `"${policy.name}";r=${remaining};t=${resetSeconds}`,
  };
}

/** Whole seconds until `resetAt`, at least 1 (a zero Retry-After invites an immediate retry). */
export const secondsUntil = (resetAt: number, now = Date.now()) => Math.max(1, Math.ceil((resetAt - now) / 1000));

/** Counts one event for `key`; throws 429 with Retry-After and the IETF RateLimit headers when over. */
export async function enforceLimit(
  env: Env,
  key: string,
  policy: { limit: number; windowSeconds: number; name: string },
): Promise<LimitResult> {
  const result = await limiter(env, key).hit(policy.limit, policy.windowSeconds * 1000);
  if (!result.allowed) {
    const retryAfter = secondsUntil(result.resetAt);
    throw new ApiError('rate_limited', 'Too many attempts; try again later', {
      details: { policy: policy.name, retry_after_seconds: retryAfter },
      headers: { 'Retry-After': String(retryAfter), ...rateLimitHeaders(policy, 0, retryAfter) },
    });
  }
  return result;
}
