/*
 * The statuses and headers every operation shares, added to the generated document in one pass
 * so that no route has to repeat them and none can forget them (issue 25): the shared middleware
 * answers them, so the document says so.
 *
 * - 413 `payload_too_large` and 415 `unsupported_media_type` on every operation with a request
 *   body (src/lib/middleware.ts: limitBody, requireJsonBody);
 * - the body's byte cap stated on request strings long enough to reach it;
 * - parameters without `null` in their types (a URL or header value is text);
 * - 429 `rate_limited` with `Retry-After`, `RateLimit` and `RateLimit-Policy` on every operation
 *   the rate limits count (every authenticated one, through the guard, and the sign-in family,
 *   counted per IP: src/security/rate-limits.ts), whose 2xx answers carry `RateLimit` and
 *   `RateLimit-Policy` too.
 */
import { DEFAULT_MAX_BODY_BYTES } from '../lib/middleware';
import { isAuthPath } from '../security';

type Json = Record<string, unknown>;
type Operation = {
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, Json>;
  security?: unknown[];
  'x-access'?: unknown;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const HEADERS: Record<string, Json> = {
  RetryAfter: {
    description: 'Seconds until the request may be sent again',
    schema: { type: 'integer', minimum: 1 },
  },
  RateLimit: {
    description:
      'The tightest window counting this request (draft-ietf-httpapi-ratelimit-headers): `"<policy>";r=<remaining>;t=<seconds to reset>`',
    schema: { type: 'string', maxLength: 200 },
  },
  RateLimitPolicy: {
    description: 'That window\'s policy: `"<policy>";q=<quota>;w=<window seconds>`',
    schema: { type: 'string', maxLength: 200 },
  },
};
const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const error = (description: string, headers?: Json): Json => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** Adds the shared statuses and headers to a generated OpenAPI 3.1 document, in place, and returns it. */
export function completeDocument<D extends Json>(doc: D): D {
  const components = ((doc as Json).components ??= {}) as Json;
  components.headers = { ...(components.headers as Json | undefined), ...HEADERS };
  for (const [path, item] of Object.entries(((doc as Json).paths ?? {}) as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      // A parameter is text in a URL or a header: it has no null. (zod-to-openapi renders some
      // coerced numbers as ["integer", "null"], which told clients `after=null` was accepted.)
      for (const param of (op.parameters ?? []) as { schema?: { type?: unknown } }[]) {
        const type = param.schema?.type;
        if (Array.isArray(type) && type.includes('null')) {
          const rest = type.filter((t) => t !== 'null');
          param.schema!.type = rest.length === 1 ? rest[0] : rest;
        }
      }
      const responses = (op.responses ??= {});
      if (op.requestBody !== undefined) {
        responses['413'] ??= error('payload_too_large: the body is over MAX_BODY_BYTES (bytes, not characters; uploads UPLOAD_MAX_BYTES)');
        responses['415'] ??= error(
          'unsupported_media_type: a body that is not application/json (or multipart/form-data where an upload is taken)',
        );
      }
      const limited = op['x-access'] !== undefined || isAuthPath(path);
      if (!limited) continue;
      const window = { RateLimit: ref('RateLimit'), 'RateLimit-Policy': ref('RateLimitPolicy') };
      const existing = responses['429'];
      responses['429'] = {
        ...(existing ?? error('rate_limited: a rate-limit window is full; `details` names the policy')),
        headers: { ...((existing?.headers as Json | undefined) ?? {}), 'Retry-After': ref('RetryAfter'), ...window },
      };
      for (const [status, response] of Object.entries(responses))
        if (/^2\d\d$/.test(status)) response.headers = { ...((response.headers as Json | undefined) ?? {}), ...window };
    }
  }
  statesByteLimits(doc);
  return doc;
}

/** A string this long can pass its own maxLength and still overflow the body cap in UTF-8 (4 bytes a character at most). */
const BYTE_CAP_BITES = DEFAULT_MAX_BODY_BYTES / 4;
const BYTE_NOTE =
  'The whole request body is at most MAX_BODY_BYTES of UTF-8 (1 MiB by default; 413 above): text outside ASCII takes 2–4 bytes a character, so it reaches that cap before this maxLength.';

/**
 * States the body's byte cap on every request string whose `maxLength` (characters) it can
 * undercut: 400,000 "€" pass a 500,000-character limit and are 1.2 MB.
 */
function statesByteLimits(doc: Json) {
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  const seen = new Set<Json>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node as Json)) return;
    const s = node as Json;
    seen.add(s);
    if (typeof s.$ref === 'string') {
      visit(schemas[s.$ref.replace('#/components/schemas/', '')]);
      return;
    }
    if (typeof s.maxLength === 'number' && s.maxLength > BYTE_CAP_BITES && !String(s.description ?? '').includes('MAX_BODY_BYTES'))
      s.description = s.description ? `${s.description}. ${BYTE_NOTE}` : BYTE_NOTE;
    for (const value of Object.values(s)) if (value && typeof value === 'object') visit(value);
  };
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Json>))
    for (const method of METHODS) visit(((item[method] as Operation | undefined)?.requestBody as Json | undefined)?.content);
}
