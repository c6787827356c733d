/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header, and the ids
 * this deployment gives to traces and spans.
 *
 * A run's spans are not recorded as they happen: the run's object already records every node and
 * attempt (start, duration, provider, model), and the trace is built from that record when asked
 * (run-trace.ts). For the ids sent to a provider during an attempt to match the ids of the trace
 * built later, span ids are derived from what names the span (run, node, attempt) instead of drawn
 * at random. Derived ids are as unique as their inputs; a run's trace id mixes in the run's
 * workflow and creation time so that two deployments' run 5 do not share a trace in a common
 * backend (it could still happen if both were created in the same millisecond: accepted).
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

/** What names each span of a run, and so derives its id. */
export const spanName = {
  run: () => 'run',
  node: (nodeId: string) => `node:${nodeId}`,
  attempt: (nodeId: string, attempt: number) => `attempt:${nodeId}:${attempt}`,
  call: (nodeId: string, attempt: number) => `call:${nodeId}:${attempt}`,
};

export type RunRef = { runId: number; workflowId: number; createdAt: number };

/** A run's trace id. */
export const runTraceId = (run: RunRef) => derivedId(`dwc-run:${run.workflowId}:${run.runId}:${run.createdAt}`, 16);

/** The id of a span of a run's trace, by its name (spanName). */
export const runSpanId = (traceId: string, name: string) => derivedId(`${traceId}:${name}`, 8);
