import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../lib/context';
import { enforceIpRules } from './ip-rules';
import { countSubject, ipSubject, isAuthPath, settleLimits } from './rate-limits';

/**
 * The global IP allow/deny rules, for every request that carries CF-Connecting-IP (Cloudflare
 * always sets it; local tools and the tests may not, and are then not filtered). Needs `db`.
 */
export function ipFilter(): MiddlewareHandler<AppEnv> {
  return async function ipFilter(c, next) {
    await enforceIpRules(c.env, c.var.db, c.req.header('cf-connecting-ip') ?? null, null);
    await next();
  };
}

/**
 * Rate limits of the `auth` route class (sign-in, registration, refresh, MFA, password reset),
 * counted per client IP before any handler runs: these routes are reachable without credentials,
 * so the guard, which limits by user and key, never sees most of their callers.
 */
export function limitAuthRoutes(): MiddlewareHandler<AppEnv> {
  return async function limitAuthRoutes(c, next) {
    const ip = c.req.header('cf-connecting-ip') ?? null;
    if (ip && isAuthPath(c.req.path)) {
      const counted = await countSubject(c.env, c.var.db, ipSubject(ip), ['auth']);
      const limits = await settleLimits(c.env, c.var.db, [counted], { classes: ['auth'], userId: null, ip });
      if (limits) for (const [k, v] of Object.entries(limits)) c.header(k, v);
    }
    await next();
  };
}
