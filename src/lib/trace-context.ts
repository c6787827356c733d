/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header and trace and
 * span ids. Platform code, so that any feature can stamp its outbound calls (the task runner's
 * webhooks, which may import no feature, included); src/traces builds traces on it.
 */

export type SpanContext = { traceId: string; spanId: string; sampled: boolean };

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A `traceparent` header as the specification reads it: version 00 exactly four fields, a later
 * version may add fields after them; all-zero ids and version ff are invalid. Invalid: null (the
 * caller then starts a new trace, as the specification asks).
 */
export function parseTraceparent(header: string | null | undefined): SpanContext | null {
  if (!header || header.length > 512) return null;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest)) return null;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return null;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

export const formatTraceparent = (ctx: SpanContext) => `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A random id of `bytes` bytes (16 for a trace, 8 for a span), never all zeros. */
export function randomId(bytes: 16 | 8): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  b[0] = b[0]! | 1;
  return hex(b);
}

/** An id of `bytes` bytes derived from `name` (SHA-256), never all zeros. */
export async function derivedId(name: string, bytes: 16 | 8): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(name)));
  const b = digest.slice(0, bytes);
  b[0] = b[0]! | 1;
  return hex(b);
}
