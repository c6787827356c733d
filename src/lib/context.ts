import type { Context, MiddlewareHandler } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { DB } from '../db/client';
import type { Access, Principal } from './access';
import type { RequestMeta } from './audit';

/** Hono environment shared by every router: bindings plus per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & {
    /** drizzle over env.DB, built once per request. */
    db: DB;
    /** The guard that enforces routes' declared access (src/auth), installed by src/app.ts. */
    guard: Guard;
    /** Set by the guard; absent on public routes. */
    principal: Principal;
  };
};

/**
 * Enforces a route's declared access: authenticates the caller, sets `principal`, and refuses
 * (401/403) what the declaration does not admit. src/auth implements it; src/app.ts puts it in
 * every request's context, where withAccess() (openapi.ts) finds it.
 */
export type Guard = (access: Access) => MiddlewareHandler<AppEnv>;

/** Who did it and from where, taken from the request once and passed to plain functions. */
export function requestMeta(c: Context<AppEnv>): RequestMeta {
  const p = c.get('principal') as Principal | undefined;
  return {
    requestId: c.get('requestId'),
    // CF-Connecting-IP is set by Cloudflare's edge and cannot be forged by the client there.
    ip: c.req.header('cf-connecting-ip') ?? null,
    userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null,
    actorUserId: p?.userId ?? null,
    actorApiKeyId: p?.kind === 'api_key' ? p.apiKeyId : null,
  };
}
