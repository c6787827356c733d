import type { NotFoundHandler } from 'hono';
import type { AppEnv } from './context';
import { ApiError } from './errors';

/** A route as Hono lists it in `app.routes`: `ALL` entries are middleware, not endpoints. */
export type RouteEntry = { method: string; path: string };

type Pattern = { test: RegExp; methods: Set<string> };

/**
 * A Hono path pattern as a regular expression over the whole path: `:name` is one segment,
 * `:name{re}` that segment matching `re`, a trailing `/*` also matches the bare prefix (as in
 * Hono), any other `*` anything.
 */
export function patternRegExp(path: string): RegExp {
  const tail = path.endsWith('/*') ? '(?:/.*)?' : '';
  const body = (tail ? path.slice(0, -2) : path).replace(/\/+$/, '');
  const source = body
    .split('/')
    .map((segment) => {
      const param = /^:\w+(?:\{(.+)\})?(\?)?$/.exec(segment);
      if (param) return param[1] ? `(?:${param[1]})` : '[^/]+';
      return segment
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
    })
    .join('/');
  // The root pattern `/` has an empty body; with a wildcard tail the empty body is right as it is.
  return new RegExp(`^${source || (tail ? '' : '/')}${tail}$`);
}

/** Every path pattern once, with the methods registered for it. */
export function routeTable(routes: readonly RouteEntry[]): Pattern[] {
  const byPath = new Map<string, Set<string>>();
  for (const r of routes) {
    if (r.method === 'ALL') continue;
    const methods = byPath.get(r.path) ?? new Set<string>();
    methods.add(r.method.toUpperCase());
    byPath.set(r.path, methods);
  }
  return [...byPath].map(([path, methods]) => ({ test: patternRegExp(path), methods }));
}

/**
 * The methods a path answers, for an `Allow` header: those of every pattern the path matches,
 * HEAD wherever GET is (Hono answers HEAD with the GET handler), and OPTIONS (the CORS middleware
 * answers every preflight). Empty when no pattern matches: the path is unknown.
 */
export function allowedMethods(table: readonly Pattern[], path: string): string[] {
  const allowed = new Set<string>();
  for (const p of table) if (p.test.test(path)) for (const m of p.methods) allowed.add(m);
  if (allowed.size === 0) return [];
  if (allowed.has('GET')) allowed.add('HEAD');
  allowed.add('OPTIONS');
  const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  return [...allowed].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
}

/**
 * Hono calls the not-found handler whenever no route matched the method *and* path, so a known
 * path asked with the wrong method would read as unknown. This tells the two apart: a path that
 * some route serves with other methods is answered 405 with `Allow` (RFC 9110 §15.5.6), anything
 * else goes to `fallback`. The route table is read once per isolate, on the first miss — by then
 * the app is fully built — since `app.routes` never changes after start-up.
 *
 * @example app.notFound(methodNotAllowed(() => app.routes, notFoundHandler));
 */
export function methodNotAllowed(routes: () => readonly RouteEntry[], fallback: NotFoundHandler<AppEnv>): NotFoundHandler<AppEnv> {
  let table: Pattern[] | null = null;
  return function methodNotAllowed(c) {
    table ??= routeTable(routes());
    const allowed = allowedMethods(table, c.req.path);
    // Hono dispatches HEAD as GET; a handler's own c.notFound() on an allowed method stays a 404.
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    if (allowed.length === 0 || allowed.includes(method)) return fallback(c);
    throw new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(', ')}`, {
      headers: { Allow: allowed.join(', ') },
    });
  };
}
