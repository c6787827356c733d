import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../lib/context';
import { formatTraceparent, parseTraceparent, randomId, type SpanContext } from './context';
import { exportSpans, otlpConfigured, type OtlpEnv } from './otlp';
import { recordRunLink } from './store';

const RUN_START = /^\/api\/v3\/workflows\/\d+\/runs\/?$/;

/**
 * Every request is a span. A valid incoming `traceparent` is honoured: the request's span joins
 * the caller's trace as a child of the caller's span; otherwise the request starts a trace. The
 * answer names the span in `traceresponse` (W3C Trace Context level 2), so a client can find its
 * request in a trace backend. With OTLP configured, the span is exported after the answer.
 *
 * A run started by a request that carried a `traceparent` gets a link to that request's span: the
 * run's own trace is derived from the run (context.ts), and the link ties it to the caller's.
 */
export function traceRequests(): MiddlewareHandler<AppEnv> {
  return async function traceRequests(c, next) {
    const caller = parseTraceparent(c.req.header('traceparent'));
    const span: SpanContext = { traceId: caller?.traceId ?? randomId(16), spanId: randomId(8), sampled: caller?.sampled ?? true };
    const start = Date.now();
    await next();
    // A WebSocket upgrade's 101 comes from the Durable Object with immutable headers, and is no span to report.
    if (c.res.status === 101) return;
    c.res.headers.set('traceresponse', formatTraceparent(span));
    if (caller && c.req.method === 'POST' && c.res.status === 201 && RUN_START.test(c.req.path)) {
      const run = (await c.res.clone().json()) as { id?: unknown };
      if (typeof run.id === 'number') await recordRunLink(c.var.db, run.id, span);
    }
    const env: OtlpEnv = c.env;
    if (span.sampled && otlpConfigured(env)) {
      const end = Date.now();
      c.executionCtx.waitUntil(
        exportSpans(env, [
          {
            trace_id: span.traceId,
            span_id: span.spanId,
            parent_span_id: caller?.spanId ?? null,
            name: `${c.req.method} ${c.req.routePath}`,
            kind: 'run',
            server: true,
            start: new Date(start).toISOString(),
            end: new Date(end).toISOString(),
            status: c.res.status >= 500 ? 'error' : 'unset',
            attributes: {
              'http.request.method': c.req.method,
              'http.route': c.req.routePath,
              'http.response.status_code': c.res.status,
              'dwc.request_id': c.get('requestId') ?? null,
            },
            events: [],
          },
        ]),
      );
    }
  };
}
