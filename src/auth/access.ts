import { bearerSecurity, errorResponses, sessionSecurity } from '../lib/openapi';
import { guard } from './middleware';
import type { Access } from './principal';

/**
 * Declares a route's access in one place: the guard middleware that enforces it, the OpenAPI
 * security requirement, 401/403 responses, and an `x-access` extension listing the roles and
 * API-key scope, so the authorisation table can be read from (and tested against) the spec.
 */
export function withAccess<R extends { responses: object; middleware?: unknown }>(access: Access, route: R) {
  return {
    ...route,
    middleware: guard(access),
    security: access.scope ? bearerSecurity : sessionSecurity,
    'x-access': { roles: [...access.roles], scope: access.scope ?? null },
    responses: { ...errorResponses('unauthorized', 'forbidden'), ...route.responses },
  };
}
