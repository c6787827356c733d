import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent } from '../../src/traces';
import { tracesSubscriber } from '../../src/traces/subscriber';
import { api, createWorkflow, llmStats, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * Run traces and W3C trace context: the trace of a run built from its record (a span per run,
 * node, attempt and provider call, with parent links), the `traceparent` the fake provider
 * (test/fake-llm.ts) receives naming those very spans, incoming `traceparent` honoured on
 * requests and linked from the run it starts, and the OTLP export of a finished run.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('trace'))).token;
});

const settings = { fallback_providers: [] };
const llmNode = (id: string, model: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'generate',
  provider: 'openai',
  model,
  prompt: `Step ${id} for {{input.topic}}`,
  retry: { max_attempts: 3, backoff: 'constant', initial_delay_ms: 20, max_delay_ms: 20, jitter: false },
  ...extra,
});

type Span = {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  start: string;
  end: string | null;
  status: string;
  attributes: Record<string, unknown>;
  events: { name: string }[];
};

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('run traces', () => {
  it('has a span per node, attempt and provider call with parent links, and the provider received those spans in traceparent', async () => {
    const tag = unique('tr').toLowerCase();
    const wf = await createWorkflow(token, {
      name: 'traced',
      settings,
      nodes: [
        llmNode('outline', `flaky-1-${tag}`),
        llmNode('draft', `ok-${tag}`, { depends_on: ['outline'] }),
        { id: 'headline', type: 'title', provider: 'local', depends_on: ['draft'] },
      ],
    });
    const started = await api('POST', `/api/v3/workflows/${wf.id}/runs`, {
      token,
      body: { input: { topic: 'tides' } },
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    expect(started.status).toBe(201);
    // The request joined the caller's trace and says under which span.
    const response = parseTraceparent(started.headers.get('traceresponse'));
    expect(response?.traceId).toBe(CALLER_TRACE);
    expect(response?.spanId).not.toBe(CALLER_SPAN);
    const run = await waitForRun(token, wf.id, started.json.id);
    expect(run.status).toBe('succeeded');

    const res = await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/trace`, { token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const trace = res.json as { trace_id: string; traceparent: string; links: unknown[]; spans: Span[] };
    expect(trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.links).toEqual([{ trace_id: CALLER_TRACE, span_id: response!.spanId }]);

    const byId = new Map(trace.spans.map((s) => [s.span_id, s]));
    expect(byId.size).toBe(trace.spans.length);
    const root = trace.spans[0]!;
    expect(root).toMatchObject({ kind: 'run', parent_span_id: null, status: 'ok', name: `run ${run.id}` });
    expect(trace.traceparent).toBe(`00-${trace.trace_id}-${root.span_id}-01`);
    expect(root.events.map((e) => e.name)).toContain('run.succeeded');

    const nodes = trace.spans.filter((s) => s.kind === 'node');
    expect(nodes.map((s) => s.attributes['dwc.node.id']).sort()).toEqual(['draft', 'headline', 'outline']);
    for (const n of nodes) {
      expect(n.parent_span_id).toBe(root.span_id);
      expect(n.status).toBe('ok');
      expect(Date.parse(n.start)).toBeGreaterThanOrEqual(Date.parse(root.start));
      expect(Date.parse(n.end!)).toBeLessThanOrEqual(Date.parse(root.end!));
    }
    const nodeSpan = (id: string) => nodes.find((n) => n.attributes['dwc.node.id'] === id)!;
    expect(nodeSpan('outline').events.map((e) => e.name)).toEqual(expect.arrayContaining(['node.started', 'node.succeeded']));

    // outline failed once (503) and succeeded on its second attempt: two attempt spans under it.
    const attempts = trace.spans.filter((s) => s.kind === 'attempt');
    const outlineAttempts = attempts.filter((a) => a.parent_span_id === nodeSpan('outline').span_id);
    expect(outlineAttempts.map((a) => [a.attributes['dwc.attempt'], a.status])).toEqual([
      [1, 'error'],
      [2, 'ok'],
    ]);
    expect(attempts.filter((a) => a.parent_span_id === nodeSpan('draft').span_id)).toHaveLength(1);

    const calls = trace.spans.filter((s) => s.kind === 'provider_call');
    for (const c of calls) expect(byId.get(c.parent_span_id!)?.kind).toBe('attempt');
    const openaiCalls = calls.filter((c) => c.attributes['gen_ai.system'] === 'openai');
    expect(openaiCalls).toHaveLength(3);

    // Every call the fake provider received carried a traceparent naming its call span in this trace.
    const received = [...(await llmStats(tag)).traceparents].map((h) => parseTraceparent(h));
    expect(received).toHaveLength(3);
    for (const ctx of received) expect(ctx?.traceId).toBe(trace.trace_id);
    expect(received.map((c) => c!.spanId).sort()).toEqual(openaiCalls.map((c) => c.span_id).sort());
  });

  it('ignores an invalid traceparent (a new trace), and keeps traces to the run owner', async () => {
    const bad = await api('GET', '/api/v3/workflows', { token, headers: { traceparent: `00-${'0'.repeat(32)}-${CALLER_SPAN}-01` } });
    expect(bad.status).toBe(200);
    const ctx = parseTraceparent(bad.headers.get('traceresponse'));
    expect(ctx).not.toBeNull();
    expect(ctx!.traceId).not.toBe('0'.repeat(32));

    const wf = await createWorkflow(token, {
      name: 'private trace',
      nodes: [{ id: 'only', type: 'title', provider: 'local', source: 'x' }],
    });
    const run = await startRun(token, wf.id);
    await waitForRun(token, wf.id, run.id);
    const other = (await registerAndLogin(unique('trother'))).token;
    const refused = await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/trace`, { token: other });
    expect(refused.status).toBe(404);
    expect(refused.json.error.code).toBe('not_found');
    const invalid = await api('GET', `/api/v3/workflows/${wf.id}/runs/abc/trace`, { token });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.code).toBe('validation_error');
    // Without a traceparent on the start request, the run has no link.
    const own = await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/trace`, { token });
    expect(own.json.links).toEqual([]);
  });

  it('exports a finished run over OTLP/HTTP JSON when a collector is configured', async () => {
    const wf = await createWorkflow(token, {
      name: 'exported',
      nodes: [{ id: 'only', type: 'title', provider: 'local', source: 'Tides and moons' }],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id)).id);
    const trace = (await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/trace`, { token })).json as {
      trace_id: string;
      spans: Span[];
    };

    const collector = unique('otlp').toLowerCase();
    const configured = {
      ...env,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://hooks.test/${collector}`,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=k1',
    };
    const event = {
      id: `run:${run.id}:succeeded`,
      type: 'workflow.completed' as const,
      ownerId: null,
      at: Date.now(),
      data: { run_id: run.id },
      effectRef: null,
    };
    await tracesSubscriber.handle(configured, event);
    // Without a collector nothing is sent.
    await tracesSubscriber.handle(env, event);

    const stats = (await (await fetch(`http://hooks.test/stats?tag=${collector}`)).json()) as {
      calls: number;
      requests: { path: string; headers: Record<string, string>; body: string }[];
    };
    expect(stats.calls).toBe(1);
    expect(stats.requests[0]!.path).toBe(`/${collector}/v1/traces`);
    expect(stats.requests[0]!.headers['x-api-key']).toBe('k1');
    const body = JSON.parse(stats.requests[0]!.body);
    const spans = body.resourceSpans[0].scopeSpans[0].spans as {
      traceId: string;
      spanId: string;
      parentSpanId?: string;
      startTimeUnixNano: string;
    }[];
    expect(spans.map((s) => s.spanId).sort()).toEqual(trace.spans.map((s) => s.span_id).sort());
    for (const s of spans) expect(s.traceId).toBe(trace.trace_id);
    expect(spans.filter((s) => !s.parentSpanId)).toHaveLength(1);
    expect(BigInt(spans[0]!.startTimeUnixNano) / 1_000_000n).toBe(
      BigInt(Date.parse(trace.spans.find((t) => t.span_id === spans[0]!.spanId)!.start)),
    );
  });
});
