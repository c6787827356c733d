import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createWorkflow,
  expectError,
  getRun,
  llmStats,
  poll,
  registerAndLogin,
  releaseLlm,
  startRun,
  unique,
  waitForRun,
} from '../helpers';

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('faults'))).token;
});

/** A generate node on the scripted fake provider (test/fake-llm.ts), with no fallback. */
const llmNode = (id: string, model: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'generate',
  provider: 'openai',
  model,
  prompt: `Step ${id} for {{input.topic}}`,
  retry: { max_attempts: 4, backoff: 'exponential', initial_delay_ms: 40, max_delay_ms: 2000, jitter: true },
  ...extra,
});
const settings = { fallback_providers: [] };

describe('retries and failures', () => {
  it('a provider that fails twice then succeeds gives three recorded attempts with growing delays', async () => {
    const tag = unique('flaky');
    const wf = await createWorkflow(token, { name: 'flaky', settings, nodes: [llmNode('only', `flaky-2-${tag}`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'x' })).id);
    expect(run.status).toBe('succeeded');
    expect(run.attempts.map((a) => [a.attempt, a.status, a.provider, a.model])).toEqual([
      [1, 'failed', 'openai', null],
      [2, 'failed', 'openai', null],
      [3, 'succeeded', 'openai', `flaky-2-${tag}`],
    ]);
    expect(run.attempts[0]!.error).toMatch(/503/);
    const [d1, d2, d3] = run.attempts.map((a) => a.delay_ms);
    expect(d1).toBe(0);
    expect(d2).toBeGreaterThanOrEqual(20); // equal jitter keeps at least half of 40 ms
    expect(d3).toBeGreaterThanOrEqual(40); // ... and of 80 ms, so it never shrinks below the previous nominal
    expect(d3).toBeGreaterThan(d2! - 1);
    // Attempts really were that far apart.
    const starts = run.attempts.map((a) => Date.parse(a.started_at));
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(d3! - 5);
    expect((await llmStats(tag)).calls).toBe(3);
    expect(run.nodes[0]!.attempts).toBe(3);
  });

  it('an always-failing node fails the run; retry after the provider recovers completes it without re-running earlier nodes', async () => {
    const first = unique('first');
    const broken = unique('broken');
    const wf = await createWorkflow(token, {
      name: 'fails',
      settings,
      nodes: [
        llmNode('first', `slow-1-${first}`),
        llmNode('second', `fail-${broken}`, {
          depends_on: ['first'],
          prompt: 'Continue: {{nodes.first.output}}',
          retry: { max_attempts: 2, initial_delay_ms: 20 },
        }),
        { id: 'third', type: 'title', depends_on: ['second'] },
      ],
    });
    const started = await startRun(token, wf.id, { topic: 'recovery' });
    const failed = await waitForRun(token, wf.id, started.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/upstream is down|503/);
    expect(failed.nodes.map((n) => n.status)).toEqual(['succeeded', 'failed', 'pending']);
    expect((await llmStats(broken)).calls).toBe(2);

    await fetch(`http://llm.test/control?heal=${broken}`);
    const retried = await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/retry`, { token });
    expect(retried.status).toBe(200);
    const done = await waitForRun(token, wf.id, started.id);
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeNull();
    expect((await llmStats(first)).calls).toBe(1); // the completed node was not executed again
    expect((await llmStats(broken)).calls).toBe(3);
    expect(done.nodes.find((n) => n.id === 'first')!.output!.document_id).toBe(
      failed.nodes.find((n) => n.id === 'first')!.output!.document_id,
    );
    expect(done.attempts.filter((a) => a.node_id === 'second').map((a) => a.status)).toEqual(['failed', 'failed', 'succeeded']);
  });

  it('a non-retryable error fails at once', async () => {
    const tag = unique('rej');
    const wf = await createWorkflow(token, { name: 'reject', settings, nodes: [llmNode('only', `reject-${tag}`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'x' })).id);
    expect(run.status).toBe('failed');
    expect(run.attempts).toHaveLength(1);
    expect((await llmStats(tag)).calls).toBe(1);
  });

  it('falls back to the next provider when one fails, and records which answered', async () => {
    const tag = unique('fb');
    const wf = await createWorkflow(token, {
      name: 'fallback',
      settings: { fallback_providers: ['local'] },
      nodes: [llmNode('only', `fail-${tag}`, { retry: { max_attempts: 1 } })],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'fallbacks' })).id);
    expect(run.status).toBe('succeeded');
    expect(run.attempts[0]).toMatchObject({ status: 'succeeded', provider: 'local' });
    // The node says no language model wrote its output.
    expect(run.nodes[0]).toMatchObject({ provider: 'local', language_model: false });
  });
});

describe('durability', () => {
  it('an object aborted mid-run resumes and finishes with each node executed once', async () => {
    const tags = [unique('a'), unique('b'), unique('c')];
    const wf = await createWorkflow(token, {
      name: 'abort',
      settings,
      nodes: [
        llmNode('a', `slow-30-${tags[0]}`),
        llmNode('b', `hold-${tags[1]}`, { depends_on: ['a'] }),
        llmNode('c', `slow-30-${tags[2]}`, { depends_on: ['b'] }),
      ],
    });
    const started = await startRun(token, wf.id, { topic: 'eviction' });
    await waitForRun(token, wf.id, started.id, (r) => r.nodes[1]!.status === 'running');
    const stub = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${started.id}`));
    await runInDurableObject(stub, (_instance, state) => {
      try {
        state.abort('test: simulated eviction');
      } catch {
        // abort() throws inside the object by design
      }
    }).catch(() => undefined);
    // The watchdog alarm armed before the attempt started is what brings the run back.
    // Stubs to an aborted object stay broken; a new stub reaches the new incarnation.
    const fresh = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${started.id}`));
    // The new incarnation's alarm runs b again, and waits for it; let the provider answer it (and
    // the lost call) once the run's own log says b was interrupted.
    const alarm = runDurableObjectAlarm(fresh);
    const eventTypes = async () =>
      (await api('GET', `/api/v3/workflows/${wf.id}/runs/${started.id}/events?after=0&limit=100`, { token })).json.items.map(
        (e: { type: string; node_id: string | null }) => `${e.type}:${e.node_id}`,
      );
    await poll(eventTypes, (types) => types.includes('node.interrupted:b'), { what: "the run's events" });
    await releaseLlm(tags[1]!);
    await alarm;
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status).toBe('succeeded');
    // b's interrupted attempt counts: its node, its attempt list and its node.started events agree.
    expect(run.nodes.map((n) => n.attempts)).toEqual([1, 2, 1]);
    for (const n of run.nodes)
      expect(
        run.attempts.filter((a) => a.node_id === n.id),
        n.id,
      ).toHaveLength(n.attempts);
    const events = (await api('GET', `/api/v3/workflows/${wf.id}/runs/${started.id}/events?after=0&limit=100`, { token })).json.items as {
      type: string;
      node_id: string | null;
      data: { attempt?: number };
    }[];
    expect(events.filter((e) => e.type === 'node.started' && e.node_id === 'b').map((e) => e.data.attempt)).toEqual([1, 2]);
    expect((await llmStats(tags[0]!)).calls).toBe(1);
    expect((await llmStats(tags[2]!)).calls).toBe(1);
    // b was in flight: its interrupted attempt is recorded, and it completed once afterwards.
    const bAttempts = run.attempts.filter((a) => a.node_id === 'b').map((a) => a.status);
    expect(bAttempts.filter((s) => s === 'succeeded')).toHaveLength(1);
    expect(bAttempts).toContain('interrupted');
  });
});

describe('control', () => {
  it('cancel stops further nodes', async () => {
    const tags = [unique('ca'), unique('cb')];
    const wf = await createWorkflow(token, {
      name: 'cancel',
      settings,
      nodes: [llmNode('a', `hold-${tags[0]}`), llmNode('b', `slow-10-${tags[1]}`, { depends_on: ['a'] })],
    });
    const started = await startRun(token, wf.id, { topic: 'x' });
    await waitForRun(token, wf.id, started.id, (r) => r.nodes[0]!.status === 'running');
    const res = await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/cancel`, { token });
    await releaseLlm(tags[0]!);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('cancelled');
    // Once a's aborted attempt is recorded, the run has done all it ever will.
    const run = await waitForRun(token, wf.id, started.id, (r) => r.attempts.some((a) => a.node_id === 'a' && a.status === 'cancelled'));
    expect(run.status).toBe('cancelled');
    expect(run.nodes.map((n) => n.status)).toEqual(['cancelled', 'cancelled']);
    expect((await llmStats(tags[1]!)).calls).toBe(0);
    expect((await getRun(token, wf.id, started.id)).status).toBe('cancelled');
  });

  it('pause lets the running node finish and starts nothing new until resume', async () => {
    const tags = [unique('pa'), unique('pb')];
    const wf = await createWorkflow(token, {
      name: 'pause',
      settings,
      nodes: [llmNode('a', `hold-${tags[0]}`), llmNode('b', `slow-10-${tags[1]}`, { depends_on: ['a'] })],
    });
    const started = await startRun(token, wf.id, { topic: 'x' });
    await waitForRun(token, wf.id, started.id, (r) => r.nodes[0]!.status === 'running');
    expect((await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/pause`, { token })).json.status).toBe('paused');
    await releaseLlm(tags[0]!);
    // a's success is recorded in the same pass that would have started b: b was not started.
    const paused = await waitForRun(token, wf.id, started.id, (r) => r.nodes[0]!.status === 'succeeded');
    expect(paused.status).toBe('paused');
    expect((await llmStats(tags[1]!)).calls).toBe(0);
    expect((await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/resume`, { token })).status).toBe(200);
    expect((await waitForRun(token, wf.id, started.id)).status).toBe('succeeded');
  });

  it('a repeated Idempotency-Key starts nothing new; a different input with the same key is a conflict', async () => {
    const tag = unique('idem');
    const wf = await createWorkflow(token, { name: 'idem', settings, nodes: [llmNode('a', `slow-10-${tag}`)] });
    const headers = { 'idempotency-key': 'order-42' };
    const first = await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: { topic: 'x' } }, headers });
    const second = await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: { topic: 'x' } }, headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.json.id).toBe(first.json.id);
    const seeds = await api('POST', '/api/v3/advanced/workflows/execute', {
      token,
      body: { workflow_id: wf.id, parameters: { topic: 'x' } },
      headers,
    });
    expect(seeds.status).toBe(200);
    expect(seeds.json.id).toBe(first.json.id);
    expectError(await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: { topic: 'y' } }, headers }), 409, 'conflict');
    await waitForRun(token, wf.id, first.json.id);
    expect((await llmStats(tag)).calls).toBe(1);
    const count = await env.DB.prepare('SELECT count(*) AS n FROM runs WHERE workflow_id = ?').bind(wf.id).first<{ n: number }>();
    expect(count!.n).toBe(1);
  });
});
