import { ApiError } from './errors';
import { objectStub } from './stubs';

export type LimitResult = { allowed: boolean; limit: number; remaining: number; resetAt: number };

/** One policy's window, as `hitAll` counts it: its name keys the counter. */
export type WindowSpec = { name: string; limit: number; windowSeconds: number };
export type WindowState = WindowSpec & {
  count: number;
  remaining: number;
  /** Epoch ms at which this window ends (and its count starts again from zero). */
  resetAt: number;
  /** True on the first refusal of this window: the caller records one event per window. */
  firstRefusal: boolean;
  full: boolean;
};
export type HitAllResult = { allowed: boolean; windows: WindowState[] };
/** A lockout (`attempt`): `limit` attempts per window, then locked for one window, doubling per repeat within `memorySeconds`. */
export type LockoutSpec = { name: string; limit: number; windowSeconds: number; maxLockSeconds: number; memorySeconds: number };
export type LockoutResult = { allowed: boolean; remaining: number; resetAt: number; locks: number };
export type CounterUsage = { name: string; windowSeconds: number; count: number; refused: number; startedAt: number; resetAt: number };

/** The RateLimiter object's RPC (durable-objects/rate-limiter.ts implements it). */
export interface RateLimiterRpc {
  /** Counts `cost` events (default 1) in the window of `windowMs`, all or none; refused past `limit`. */
  hit(limit: number, windowMs: number, cost?: number): LimitResult;
  /** Counts one event against several named windows at once: admitted only if every one admits it. */
  hitAll(specs: WindowSpec[]): HitAllResult;
  /** Counts one attempt against a progressive lockout (sign-in); refused while locked. */
  attempt(spec: LockoutSpec): LockoutResult;
  usage(): CounterUsage[];
  reset(): void;
  /** A storage round trip, for health checks. */
  probe(): { ok: boolean; at: number };
}

/** The counter object for `key` (`rl:user:42`, `login:account:alice`, …). */
export const limiter = (env: Env, key: string) => objectStub<RateLimiterRpc>(env.RATE_LIMITER, key);

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

/**
 * Counts one event (or `cost` of them) for `key`; throws 429 with Retry-After and the IETF
 * RateLimit headers, naming the policy, when over.
 */
export async function enforceLimit(
  env: Env,
  key: string,
  policy: { limit: number; windowSeconds: number; name: string },
  opts: { cost?: number; message?: string } = {},
): Promise<LimitResult> {
  const result = await limiter(env, key).hit(policy.limit, policy.windowSeconds * 1000, opts.cost ?? 1);
  if (!result.allowed) {
    const retryAfter = secondsUntil(result.resetAt);
    throw new ApiError('rate_limited', opts.message ?? 'Too many attempts; try again later', {
      details: { policy: policy.name, limit: policy.limit, window_seconds: policy.windowSeconds, retry_after_seconds: retryAfter },
      headers: { 'Retry-After': String(retryAfter), ...rateLimitHeaders(policy, 0, retryAfter) },
    });
  }
  return result;
}

/**
 * Counts one attempt for `key` against a progressive lockout; throws 429 with Retry-After (until
 * the lock ends) and the RateLimit headers naming the policy while the key is locked.
 */
export async function enforceLockout(env: Env, key: string, spec: LockoutSpec): Promise<LockoutResult> {
  const result = await limiter(env, key).attempt(spec);
  if (!result.allowed) {
    const retryAfter = secondsUntil(result.resetAt);
    throw new ApiError('rate_limited', 'Too many attempts; try again later', {
      details: {
        policy: spec.name,
        limit: spec.limit,
        window_seconds: spec.windowSeconds,
        locks: result.locks,
        retry_after_seconds: retryAfter,
      },
      headers: { 'Retry-After': String(retryAfter), ...rateLimitHeaders({ ...spec }, 0, retryAfter) },
    });
  }
  return result;
}
