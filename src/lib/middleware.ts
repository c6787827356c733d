import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { ApiError, errorBody } from './errors';
import type { AppEnv } from './context';
import { log } from './log';
import { enforceIpRules } from '../security/ip-rules';
import { countSubject, ipSubject, isAuthPath, settleLimits } from '../security/rate-limits';
import { getDb } from '../db/client';
import { noteAccessDenied } from '../security/events';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** One JSON access-log line per request, with the request id that the client also sees. */
export function accessLog(): MiddlewareHandler<AppEnv> {
  return async function accessLog(c, next) {
    const started = Date.now();
    await next();
    log(c.env.LOG_LEVEL, 'info', 'request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      route: c.req.routePath,
      status: c.res.status,
      durationMs: Date.now() - started,
    });
  };
}

/**
 * CORS from the CORS_ORIGINS variable: "*" (any origin, no credentials — the API uses bearer
 * tokens, not cookies) or a comma-separated allow-list. Resolved per request because `env` is
 * only known then; the parsing is trivial.
 */
export function corsFromEnv(): MiddlewareHandler<AppEnv> {
  return async function corsFromEnv(c, next) {
    const configured = (c.env.CORS_ORIGINS ?? '').trim();
    const allowed =
      configured === '*'
        ? '*'
        : configured
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    return cors({
      origin: allowed === '*' ? '*' : (origin) => (allowed.includes(origin) ? origin : null),
      allowHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'Idempotency-Key', 'X-Request-Id'],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    })(c, next);
  };
}

/** Rejects bodies over MAX_BODY_BYTES with 413, whether or not Content-Length is sent. */
export function limitBody(): MiddlewareHandler<AppEnv> {
  return async function limitBody(c, next) {
    const maxSize = Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError('payload_too_large', `Request body exceeds ${maxSize} bytes`);
      },
    })(c, next);
  };
}

/** A request that carries a body must say it is JSON: every route here accepts JSON only. */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async function requireJsonBody(c, next) {
    const hasBody = c.req.raw.body !== null && (c.req.header('content-length') ?? '') !== '0';
    if (hasBody && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.req.method)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
        throw new ApiError('unsupported_media_type', 'Request bodies must be application/json');
      }
    }
    await next();
  };
}

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

function render(c: Context<AppEnv>, err: ApiError) {
  const res = c.json(errorBody(err.code, err.message, c.get('requestId') ?? 'unknown', err.details), err.status);
  for (const [k, v] of Object.entries(err.headers ?? {})) res.headers.set(k, v);
  return res;
}

/**
 * The single error renderer. ApiErrors keep their code; Hono's own HTTPExceptions (malformed
 * JSON, for instance) are mapped by status; anything else is a fault: logged with the request id
 * and stack for operators, answered as a generic 500 without the stack.
 */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) {
    if ((err.code === 'forbidden' || err.code === 'unauthorized') && c.env?.DB) {
      const principal = c.get('principal') as AppEnv['Variables']['principal'] | undefined;
      const who = { userId: principal?.userId ?? null, ip: c.req.header('cf-connecting-ip') ?? null };
      const noted = noteAccessDenied(c.env, getDb(c.env.DB), who, { code: err.code, method: c.req.method, path: c.req.path });
      c.executionCtx.waitUntil(noted.catch((e) => log(c.env.LOG_LEVEL, 'error', 'access-denied counting failed', { error: String(e) })));
    }
    return render(c, err);
  }
  if (err instanceof HTTPException) {
    const byStatus: Record<number, ApiError> = {
      400: new ApiError('bad_request', err.message || 'Malformed request'),
      401: new ApiError('unauthorized', 'Authentication required'),
      404: new ApiError('not_found', 'Not found'),
      413: new ApiError('payload_too_large', 'Request body too large'),
      415: new ApiError('unsupported_media_type', 'Unsupported content type'),
    };
    const mapped = byStatus[err.status];
    if (mapped) return render(c, mapped);
  }
  log(c.env?.LOG_LEVEL, 'error', 'unhandled error', {
    requestId: c.get('requestId'),
    method: c.req.method,
    path: c.req.path,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  return render(c, new ApiError('internal_error', 'Internal server error'));
};

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  render(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`));
