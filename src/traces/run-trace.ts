import { z } from '@hono/zod-openapi';
import { formatTraceparent, type RunRef, runSpanId, runTraceId, spanName } from './context';

/*
 * A run's trace, built from what the run already records rather than from spans collected as it
 * ran: the run (created, finished), each node (started, finished, status), each attempt (start,
 * latency, provider, model, tokens, cost) and the run's event log (timestamped). Every span id is
 * derived from the span's name (context.ts), so the `traceparent` a provider received during an
 * attempt names exactly the provider-call span shown here.
 *
 * What the record cannot say it does not invent: an attempt is one interval, so its provider-call
 * span has the attempt's interval (prompt rendering and bookkeeping are microseconds beside the
 * call); the D1 writes and queue hops of the run are not recorded per run, and show up in the
 * Workers trace of the invocation instead (docs/observability.md).
 */

const Attr = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const SpanSchema = z
  .object({
    span_id: z.string(),
    parent_span_id: z.string().nullable(),
    name: z.string(),
    kind: z.enum(['run', 'node', 'attempt', 'provider_call']),
    start: z.string(),
    end: z.string().nullable().openapi({ description: 'null while the span is still open (the run or node is not finished)' }),
    duration_ms: z.number().int().nullable(),
    status: z.enum(['ok', 'error', 'unset']),
    attributes: z.record(z.string(), Attr),
    events: z.array(z.object({ name: z.string(), at: z.string(), attributes: z.record(z.string(), Attr) })),
  })
  .openapi('TraceSpan');

export const RunTraceSchema = z
  .object({
    trace_id: z.string(),
    run_id: z.number().int(),
    workflow_id: z.number().int(),
    traceparent: z.string().openapi({ description: "The run span's context, to continue this trace elsewhere" }),
    links: z
      .array(z.object({ trace_id: z.string(), span_id: z.string() }))
      .openapi({ description: 'The span of the request that started the run, when it sent a traceparent' }),
    spans: z.array(SpanSchema).openapi({ description: 'Ordered by start; the run span first' }),
  })
  .openapi('RunTrace');

export type Span = z.infer<typeof SpanSchema>;
export type RunTrace = z.infer<typeof RunTraceSchema>;

/** What the trace is built from: the run as the API shows it (src/runs publicRun) and its events. */
export type TracedRun = {
  id: number;
  workflow_id: number;
  workflow_version: number;
  status: string;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  nodes: { id: string; type: string; status: string; started_at: string | null; finished_at: string | null; attempts: number }[];
  attempts: {
    node_id: string;
    attempt: number;
    status: string;
    started_at: string;
    finished_at: string;
    latency_ms: number;
    error: string | null;
    provider: string | null;
    model: string | null;
    tokens_in: number;
    tokens_out: number;
    cost_usd: number | null;
  }[];
};
export type TracedEvent = { seq: number; type: string; at: number; node_id: string | null };

const iso = (ms: number) => new Date(ms).toISOString();
const statusOf = (s: string): Span['status'] =>
  s === 'succeeded' ? 'ok' : s === 'failed' || s === 'interrupted' || s === 'cancelled' ? 'error' : 'unset';
const span = (s: Omit<Span, 'duration_ms' | 'events'> & { events?: Span['events'] }): Span => ({
  ...s,
  duration_ms: s.end === null ? null : Math.max(0, Date.parse(s.end) - Date.parse(s.start)),
  events: s.events ?? [],
});
/** A map item's records are named `<node>[<index>]`: their spans hang under the map node's. */
const ownerNode = (recordId: string) => recordId.replace(/\[.*$/, '');

export async function buildRunTrace(
  run: TracedRun,
  events: TracedEvent[],
  link: { traceId: string; spanId: string } | null,
): Promise<RunTrace> {
  const ref: RunRef = { runId: run.id, workflowId: run.workflow_id, createdAt: Date.parse(run.created_at) };
  const traceId = await runTraceId(ref);
  const id = (name: string) => runSpanId(traceId, name);
  const rootId = await id(spanName.run());
  const eventsOf = (nodeId: string | null) =>
    events
      .filter((e) => e.node_id === nodeId && e.type !== 'node.token')
      .map((e) => ({ name: e.type, at: iso(e.at), attributes: { seq: e.seq } }));

  const spans: Span[] = [
    span({
      span_id: rootId,
      parent_span_id: null,
      name: `run ${run.id}`,
      kind: 'run',
      start: run.created_at,
      end: run.finished_at,
      status: statusOf(run.status),
      attributes: {
        'dwc.run.id': run.id,
        'dwc.workflow.id': run.workflow_id,
        'dwc.workflow.version': run.workflow_version,
        'dwc.run.status': run.status,
        'dwc.run.error': run.error,
      },
      events: eventsOf(null),
    }),
  ];
  const nodeSpan = new Map<string, string>();
  for (const n of run.nodes) {
    if (!n.started_at) continue;
    const spanId = await id(spanName.node(n.id));
    nodeSpan.set(n.id, spanId);
    spans.push(
      span({
        span_id: spanId,
        parent_span_id: rootId,
        name: `node ${n.id}`,
        kind: 'node',
        start: n.started_at,
        end: n.finished_at,
        status: statusOf(n.status),
        attributes: { 'dwc.node.id': n.id, 'dwc.node.type': n.type, 'dwc.node.status': n.status, 'dwc.node.attempts': n.attempts },
        events: eventsOf(n.id),
      }),
    );
  }
  for (const a of run.attempts) {
    const attemptId = await id(spanName.attempt(a.node_id, a.attempt));
    const end = iso(Date.parse(a.started_at) + a.latency_ms);
    spans.push(
      span({
        span_id: attemptId,
        parent_span_id: nodeSpan.get(ownerNode(a.node_id)) ?? rootId,
        name: `${a.node_id} attempt ${a.attempt}`,
        kind: 'attempt',
        start: a.started_at,
        end,
        status: statusOf(a.status),
        attributes: { 'dwc.node.id': a.node_id, 'dwc.attempt': a.attempt, 'dwc.attempt.status': a.status, 'dwc.attempt.error': a.error },
      }),
    );
    if (a.provider)
      spans.push(
        span({
          span_id: await id(spanName.call(a.node_id, a.attempt)),
          parent_span_id: attemptId,
          name: `${a.provider} ${a.model ?? ''}`.trim(),
          kind: 'provider_call',
          start: a.started_at,
          end,
          status: statusOf(a.status),
          // OpenTelemetry's semantic conventions for generative AI calls.
          attributes: {
            'gen_ai.system': a.provider,
            'gen_ai.request.model': a.model,
            'gen_ai.usage.input_tokens': a.tokens_in,
            'gen_ai.usage.output_tokens': a.tokens_out,
            'dwc.cost_usd': a.cost_usd,
          },
        }),
      );
  }
  spans.sort((x, y) => (x.span_id === rootId ? -1 : y.span_id === rootId ? 1 : Date.parse(x.start) - Date.parse(y.start)));
  return {
    trace_id: traceId,
    run_id: run.id,
    workflow_id: run.workflow_id,
    traceparent: formatTraceparent({ traceId, spanId: rootId, sampled: true }),
    links: link ? [{ trace_id: link.traceId, span_id: link.spanId }] : [],
    spans,
  };
}
