import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Hook } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ApiError, ErrorSchema, ERROR_STATUS, type ErrorCode } from './errors';
import type { Access } from './access';
import type { AppEnv } from './context';

/**
 * Every zod validation failure (body, query, params, headers) becomes the same 400 error shape,
 * with zod's issues as `details`. Throwing lets the single `onError` render it.
 */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) {
    throw new ApiError('validation_error', 'Request validation failed', {
      details: result.error.issues.map((i) => ({ path: i.path, code: i.code, message: i.message })),
    });
  }
};

/** A router for one domain; every domain builds its routes on this so the hook is never missed. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

type ErrorResponse = { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } };

/** Standard error responses for a route's OpenAPI `responses`, keyed by the codes' statuses. */
export function errorResponses<C extends ErrorCode>(...codes: C[]): { [K in C as (typeof ERROR_STATUS)[K]]: ErrorResponse } {
  const out: Record<number, ErrorResponse> = {};
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    const prior = out[status]?.description;
    out[status] = { description: prior ? `${prior} / ${code}` : code, content: { 'application/json': { schema: ErrorSchema } } };
  }
  return out as { [K in C as (typeof ERROR_STATUS)[K]]: ErrorResponse };
}

/** What a schema's `.openapi()` takes: JSON Schema keywords the generated document adds to the schema. */
export type SchemaMetadata = NonNullable<Parameters<z.ZodString['openapi']>[1]>;

/**
 * Cross-field rules a zod `refine` enforces but the generated document cannot see, as JSON Schema
 * for a schema's `.openapi()` metadata, so the document accepts exactly what the server does.
 * `anyOfRequired('a', 'b')`: at least one of the properties; `oneOfRequired`: exactly one.
 */
export const anyOfRequired = (...names: string[]) => ({ anyOf: names.map((name) => ({ required: [name] })) });
export const oneOfRequired = (...names: string[]) => ({ oneOf: names.map((name) => ({ required: [name] })) });

export const jsonBody = <T extends z.ZodType>(schema: T, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

type SecurityRequirement = Record<string, string[]>;
export const bearerSecurity: SecurityRequirement[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
export const sessionSecurity: SecurityRequirement[] = [{ bearerAuth: [] }];

/**
 * Declares a route's access in one place: the guard that enforces it (taken from the request's
 * context, where src/app.ts put src/auth's), the OpenAPI security requirement, 401/403
 * responses, and an `x-access` extension listing the roles and API-key scope, so the
 * authorisation table can be read from (and tested against) the spec.
 */
export function withAccess<R extends { responses: object; middleware?: unknown }>(access: Access, route: R) {
  const enforce: MiddlewareHandler<AppEnv> = (c, next) => c.var.guard(access)(c, next);
  return {
    ...route,
    middleware: enforce,
    security: access.scope ? bearerSecurity : sessionSecurity,
    'x-access': { roles: [...access.roles], scope: access.scope ?? null },
    responses: { ...errorResponses('unauthorized', 'forbidden'), ...route.responses },
  };
}

/** `{id}` path parameter: a positive integer id. */
export const IdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
});

/** A query parameter holding an instant, ISO 8601 or epoch milliseconds, parsed to epoch ms. */
export const instantQuery = (name: string, description: string) =>
  z
    .string()
    .max(40)
    .transform((s, ctx) => {
      const ms = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
      if (Number.isNaN(ms)) ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 date-time or epoch milliseconds' });
      return ms;
    })
    .optional()
    .openapi({ param: { name, in: 'query' }, description, example: '2026-11-01T00:00:00Z' });
