import { log } from '../lib/log';
import type { Span } from './run-trace';

/*
 * OpenTelemetry export over OTLP/HTTP with JSON bodies (the protocol's `http/json` encoding),
 * which needs nothing but fetch and so runs on Workers. Configured with the standard variables:
 * OTEL_EXPORTER_OTLP_ENDPOINT (the collector's base URL; spans go to `<endpoint>/v1/traces`) and
 * OTEL_EXPORTER_OTLP_HEADERS (`key=value,key2=value2`, e.g. an API key). Without an endpoint
 * nothing is exported. Cloudflare's own Workers tracing ([observability.traces] in wrangler.toml)
 * is independent of this and covers the platform's side (D1, queues, Durable Object calls).
 */
export type OtlpEnv = Env & { OTEL_EXPORTER_OTLP_ENDPOINT?: string; OTEL_EXPORTER_OTLP_HEADERS?: string };

export const SERVICE_NAME = 'document-workflow-chain';

export type ExportSpan = Omit<Span, 'duration_ms'> & {
  trace_id: string;
  links?: { trace_id: string; span_id: string }[];
  server?: boolean;
};

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

function value(v: string | number | boolean): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}
const attributes = (attrs: Record<string, string | number | boolean | null>) =>
  Object.entries(attrs)
    .filter((e): e is [string, string | number | boolean] => e[1] !== null)
    .map(([key, v]) => ({ key, value: value(v) }));
const nanos = (iso: string) => `${BigInt(Date.parse(iso)) * 1_000_000n}`;

/** SpanKind: 1 internal, 2 server, 3 client. StatusCode: 0 unset, 1 ok, 2 error. */
const KIND = { run: 1, node: 1, attempt: 1, provider_call: 3 } as const;
const STATUS = { unset: 0, ok: 1, error: 2 } as const;

/** The OTLP/JSON body (ExportTraceServiceRequest) for finished spans. */
export function otlpBody(spans: ExportSpan[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: attributes({ 'service.name': SERVICE_NAME }) },
        scopeSpans: [
          {
            scope: { name: SERVICE_NAME },
            spans: spans
              .filter((s) => s.end !== null)
              .map((s) => ({
                traceId: s.trace_id,
                spanId: s.span_id,
                ...(s.parent_span_id ? { parentSpanId: s.parent_span_id } : {}),
                name: s.name,
                kind: s.server ? 2 : KIND[s.kind],
                startTimeUnixNano: nanos(s.start),
                endTimeUnixNano: nanos(s.end!),
                attributes: attributes(s.attributes),
                events: s.events.map((e) => ({ name: e.name, timeUnixNano: nanos(e.at), attributes: attributes(e.attributes) })),
                links: (s.links ?? []).map((l) => ({ traceId: l.trace_id, spanId: l.span_id })),
                status: { code: STATUS[s.status] },
              })),
          },
        ],
      },
    ],
  };
}

function headers(configured: string | undefined): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'application/json' };
  for (const pair of (configured ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

export const otlpConfigured = (env: OtlpEnv) => !!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();

/**
 * Sends spans to the collector. Best effort: a collector that is down loses these spans (logged),
 * it never fails the request or the event that produced them. Returns whether it accepted them.
 */
export async function exportSpans(env: OtlpEnv, spans: ExportSpan[]): Promise<boolean> {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim().replace(/\/+$/, '');
  if (!endpoint || spans.length === 0) return false;
  try {
    const res = await fetch(`${endpoint}/v1/traces`, {
      method: 'POST',
      headers: headers(env.OTEL_EXPORTER_OTLP_HEADERS),
      body: JSON.stringify(otlpBody(spans)),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.ok) return true;
    log(env.LOG_LEVEL, 'warn', 'OTLP export refused', { status: res.status, spans: spans.length });
  } catch (err) {
    log(env.LOG_LEVEL, 'warn', 'OTLP export failed', { error: err instanceof Error ? err.message : String(err), spans: spans.length });
  }
  return false;
}
