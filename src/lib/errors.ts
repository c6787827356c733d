import { z } from '@hono/zod-openapi';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The closed set of error codes every failure maps to. Clients switch on `code`, never on
 * `message`, so adding a code is an API change and goes here, with its status, and nowhere else.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** An AI provider named by the request is not set up on this deployment. */
  provider_not_configured: 422,
  /** The AI provider that would answer cannot do what was asked (the local provider asked to translate). */
  unsupported_by_provider: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

/** The one error type thrown by handlers and middleware; `onError` renders it. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = opts.details;
    this.headers = opts.headers;
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what = 'Resource') => new ApiError('not_found', `${what} not found`);

/** A 400 for one field that failed a check beyond its schema, in the same shape as zod's failures. */
export const invalidField = (path: (string | number)[], message: string) =>
  new ApiError('validation_error', 'Request validation failed', { details: [{ path, code: 'custom', message }] });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).openapi({ example: 'validation_error' }),
      message: z.string().openapi({ example: 'Request validation failed' }),
      details: z.unknown().optional().openapi({ description: 'Machine-readable detail, e.g. zod issues for validation errors' }),
      requestId: z.string().openapi({ example: '6f1c0e4e-5a7b-4c55-9a57-0f3f9f2d8b11' }),
    }),
  })
  .openapi('Error');

export type ErrorBody = z.infer<typeof ErrorSchema>;

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId } };
}
