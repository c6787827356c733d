import { z } from '@hono/zod-openapi';

/*
 * The admin index is read from the app's OpenAPI registry, where every route declared with
 * withAccess() carries its `x-access`: the list is then whatever the app serves, not a copy
 * that drifts. The registry's entries are typed by a library we do not own, so each is checked
 * on the way in; anything else (schemas, components) is skipped.
 */
const RouteDefinition = z.object({
  type: z.literal('route'),
  route: z.object({
    method: z.string(),
    path: z.string(),
    operationId: z.string().optional(),
    summary: z.string().optional(),
    'x-access': z.object({ roles: z.array(z.string()), scope: z.string().nullable() }).optional(),
  }),
});

export type AdminOperation = { method: string; path: string; operation_id: string | null; summary: string | null; scope: string | null };

const ORDER = ['get', 'post', 'put', 'patch', 'delete'];

/** Every operation only administrators may call, sorted by path then method. */
export function adminOperations(definitions: readonly unknown[]): AdminOperation[] {
  const out: AdminOperation[] = [];
  for (const def of definitions) {
    const parsed = RouteDefinition.safeParse(def);
    if (!parsed.success) continue;
    const { route } = parsed.data;
    const roles = route['x-access']?.roles ?? [];
    if (roles.length !== 1 || roles[0] !== 'admin') continue;
    out.push({
      method: route.method.toUpperCase(),
      path: route.path,
      operation_id: route.operationId ?? null,
      summary: route.summary ?? null,
      scope: route['x-access']?.scope ?? null,
    });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path) || ORDER.indexOf(a.method.toLowerCase()) - ORDER.indexOf(b.method.toLowerCase()));
}
