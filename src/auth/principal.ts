import type { Context } from 'hono';
import type { Role } from '../db/schema';
import type { RequestMeta } from '../lib/audit';

/**
 * API-key scopes. A key can only do what both its scopes and its owner's role allow. Later
 * domains add their scopes here, so the whole set is visible in one place.
 */
export const SCOPES = [
  'profile:read',
  'workflows:read',
  'workflows:write',
  'documents:read',
  'documents:write',
  'ai:use',
  'users:admin',
  'tasks:read',
  'tasks:write',
  'schedules:read',
  'schedules:write',
  'security:read',
  'security:admin',
  'notifications:read',
  'notifications:write',
  'metrics:read',
  'metrics:write',
  'analytics:read',
  'analytics:write',
  'cache:admin',
  'ml:read',
  'ml:write',
  'recommendations:read',
  'recommendations:write',
  'automations:read',
  'automations:write',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is making the request, as established by `authenticate()`. */
export type Principal =
  | { kind: 'session'; userId: number; username: string; role: Role; sessionId: string }
  | { kind: 'api_key'; userId: number; username: string; role: Role; apiKeyId: number; scopes: Scope[] };

/** Route access declaration: the roles admitted, and the scope an API key needs (none: keys refused). */
export type Access = { roles: readonly Role[]; scope?: Scope };

export const ANY_ROLE: readonly Role[] = ['admin', 'editor', 'viewer'];
export const WRITERS: readonly Role[] = ['admin', 'editor'];
export const ADMINS: readonly Role[] = ['admin'];

/** Who did it and from where, taken from the request once and passed to plain functions. */
export function requestMeta(c: Context): RequestMeta {
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
