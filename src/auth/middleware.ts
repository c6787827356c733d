import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../lib/context';
import { secrets } from '../lib/config';
import { ApiError } from '../lib/errors';
import { API_KEY_PREFIX, resolveApiKey, touchApiKey } from './apikeys';
import type { Access, Principal } from './principal';
import { activeSessionUser } from './sessions';
import { verifyAccessToken } from './tokens';

const unauthorized = (message: string) =>
  new ApiError('unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer realm="dwc", error="invalid_token"' } });

function presentedCredential(authorization: string | undefined, apiKeyHeader: string | undefined) {
  if (apiKeyHeader) return { kind: 'api_key' as const, value: apiKeyHeader.trim() };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return null;
  const value = match[1]!;
  return { kind: value.startsWith(API_KEY_PREFIX) ? ('api_key' as const) : ('jwt' as const), value };
}

/** Establishes the principal from a JWT access token or an API key, or answers 401. */
export async function resolvePrincipal(env: Env, db: AppEnv['Variables']['db'], authorization?: string, apiKeyHeader?: string, waitUntil?: (p: Promise<unknown>) => void): Promise<Principal> {
  const cred = presentedCredential(authorization, apiKeyHeader);
  if (!cred) throw unauthorized('Authentication required');
  if (cred.kind === 'api_key') {
    const key = await resolveApiKey(db, cred.value);
    if (!key) throw unauthorized('Invalid API key');
    const touch = touchApiKey(db, key.keyId, key.lastUsedAt);
    if (waitUntil) waitUntil(touch);
    else await touch;
    return { kind: 'api_key', userId: key.userId, username: key.username, role: key.role, apiKeyId: key.keyId, scopes: key.scopes };
  }
  const claims = await verifyAccessToken(secrets(env).jwtSecret, cred.value);
  if (!claims) throw unauthorized('Invalid or expired access token');
  const user = await activeSessionUser(db, Number(claims.sub), claims.sid);
  if (!user) throw unauthorized('Session has ended');
  return { kind: 'session', userId: user.id, username: user.username, role: user.role, sessionId: claims.sid };
}

/**
 * Authenticates and authorises in one step, from the route's declared access: the caller's
 * role must be listed, and an API key must also hold the declared scope (routes that declare no
 * scope refuse API keys). Undeclared means denied.
 */
export function guard(access: Access): MiddlewareHandler<AppEnv> {
  return async function guard(c, next) {
    const principal = await resolvePrincipal(c.env, c.var.db, c.req.header('authorization'), c.req.header('x-api-key'), (p) =>
      c.executionCtx.waitUntil(p),
    );
    c.set('principal', principal);
    if (!access.roles.includes(principal.role)) {
      throw new ApiError('forbidden', `This action requires one of the roles: ${access.roles.join(', ')}`);
    }
    if (principal.kind === 'api_key') {
      if (!access.scope) throw new ApiError('forbidden', 'API keys cannot be used for this action; sign in instead');
      if (!principal.scopes.includes(access.scope)) throw new ApiError('forbidden', `This API key lacks the scope ${access.scope}`);
    }
    await next();
  };
}
