import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { ApiError, errorBody } from './errors';
import type { AppEnv } from './context';
import { ConfigError } from './config';
import { jsonTextProblem } from './json';
import { log } from './log';

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

/**
 * Routes that take file uploads: a multipart/form-data body, up to UPLOAD_MAX_BYTES plus the
 * form's framing. Listed by src/app.ts, because the body checks below run before routing.
 */
export type UploadRoute = { method: string; path: RegExp };

export const DEFAULT_UPLOAD_MAX_BYTES = 5 * 1024 * 1024;
/** Room for the multipart boundaries, part headers and small text fields around the file. */
const FORM_FRAMING_BYTES = 64 * 1024;

const isUpload = (c: Context<AppEnv>, uploads: readonly UploadRoute[]) =>
  uploads.some((u) => u.method === c.req.method && u.path.test(c.req.path));

/**
 * Rejects bodies over MAX_BODY_BYTES (upload routes: UPLOAD_MAX_BYTES plus framing) with 413,
 * whether or not Content-Length is sent. The upload route itself refuses a file over
 * UPLOAD_MAX_BYTES with a message naming the file.
 */
export function limitBody(uploads: readonly UploadRoute[] = []): MiddlewareHandler<AppEnv> {
  return async function limitBody(c, next) {
    const maxSize = isUpload(c, uploads)
      ? (Number(c.env.UPLOAD_MAX_BYTES) || DEFAULT_UPLOAD_MAX_BYTES) + FORM_FRAMING_BYTES
      : Number(c.env.MAX_BODY_BYTES) || DEFAULT_MAX_BODY_BYTES;
    return bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError('payload_too_large', `Request body exceeds ${maxSize} bytes`);
      },
    })(c, next);
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * A request that carries a body must say it is JSON (or, on an upload route, a multipart form). A
 * JSON body must also be valid UTF-8 (a lenient decoder would store U+FFFD for the bad bytes,
 * silently), hold no NUL character, and nest at most BODY_MAX_DEPTH deep: all 400 before any
 * handler runs. The bytes read here stay in Hono's body cache, from which the validators parse.
 */
export function requireJsonBody(uploads: readonly UploadRoute[] = []): MiddlewareHandler<AppEnv> {
  return async function requireJsonBody(c, next) {
    const hasBody = c.req.raw.body !== null && (c.req.header('content-length') ?? '') !== '0';
    if (hasBody && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(c.req.method)) {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const upload = isUpload(c, uploads);
      const json = type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
      if (!json && !(upload && type === 'multipart/form-data')) {
        throw new ApiError(
          'unsupported_media_type',
          upload ? 'Request bodies must be application/json or multipart/form-data' : 'Request bodies must be application/json',
        );
      }
      if (json) {
        // Read outside the try: a body over the size limit fails the read, and that 413 stands.
        const bytes = await c.req.arrayBuffer();
        let text: string;
        try {
          text = utf8.decode(bytes);
        } catch {
          throw new ApiError('bad_request', 'The request body is not valid UTF-8');
        }
        const problem = jsonTextProblem(text);
        if (problem) throw new ApiError('bad_request', `The request body is refused: ${problem}`);
      }
    }
    await next();
  };
}

/*
 * The error's own headers go into the context, not onto the finished response: Hono's `c.res`
 * setter copies the headers of any response the context already had (say, a guard's RateLimit
 * fields for the request's quota) over the new one, so a 429 would otherwise name the guard's
 * policy instead of the one that refused it.
 */
function render(c: Context<AppEnv>, err: ApiError) {
  for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
  return c.json(errorBody(err.code, err.message, c.get('requestId') ?? 'unknown', err.details), err.status);
}

/** What the error renderer reports to the features that want to know (wired by src/app.ts). */
export type ErrorHooks = {
  /** A request refused with 401 or 403, after the answer is built (counted for abuse detection). */
  onRefused?: (c: Context<AppEnv>, err: ApiError) => void;
};

/**
 * The single error renderer. ApiErrors keep their code; Hono's own HTTPExceptions (malformed
 * JSON, for instance) are mapped by status; anything else is a fault: logged with the request id
 * and stack for operators, answered as a generic 500 without the stack.
 */
export function errorHandler(hooks: ErrorHooks = {}): ErrorHandler<AppEnv> {
  return function onError(err, c) {
    if (err instanceof ApiError) {
      if ((err.code === 'forbidden' || err.code === 'unauthorized') && hooks.onRefused) hooks.onRefused(c, err);
      return render(c, err);
    }
    if (err instanceof ConfigError) {
      // A deployment without usable secrets: the operator's problem, named in the log, not the client's.
      log(c.env?.LOG_LEVEL, 'error', 'configuration problem', { requestId: c.get('requestId'), path: c.req.path, problem: err.message });
      return render(c, new ApiError('service_unavailable', 'The service is not configured correctly; the operator has been told'));
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
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  render(c, new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}`));
