import type { Role } from '../db/schema';

/*
 * The access vocabulary every route declares with (withAccess, openapi.ts): who may call it (roles)
 * and which API-key scope it needs. Who the caller is — sessions, API keys, the guard that checks a
 * declaration — is src/auth's; what the caller may do is stated here, once for every feature.
 */

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

/**
 * Route access declaration: the roles admitted, and the scope an API key needs (none: keys
 * refused). `socket` marks a WebSocket upgrade, which a browser cannot send headers with: the
 * credential may then also come as a single-use ticket (`?ticket=`), or an access token in
 * `?token=` or the subprotocol `bearer.<token>` — never an API key there, since a URL is logged.
 */
export type Access = { roles: readonly Role[]; scope?: Scope; socket?: boolean };

export const ANY_ROLE: readonly Role[] = ['admin', 'editor', 'viewer'];
export const WRITERS: readonly Role[] = ['admin', 'editor'];
export const ADMINS: readonly Role[] = ['admin'];
