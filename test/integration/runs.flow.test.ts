import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  BASE,
  createWorkflow,
  expectError,
  type RunJson,
  registerAndLogin,
  releaseLlm,
  startRun,
  unique,
  waitForRun,
} from '../helpers';

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('flow'))).token;
});

const approvalChain = (timeout: number, onTimeout = 'reject') => ({
  name: 'review',
  nodes: [
    { id: 'draft', type: 'generate', prompt: 'Write a short note about {{input.topic}}' },
    {
      id: 'review',
      type: 'approval',
      depends_on: ['draft'],
      message: 'Publish "{{nodes.draft.title}}"?',
      approval_timeout_seconds: timeout,
      on_timeout: onTimeout,
    },
    { id: 'headline', type: 'title', depends_on: ['review', 'draft'], source: '{{nodes.draft.output}}' },
  ],
});

describe('approval nodes', () => {
  it('wait for an approval event, then continue', async () => {
    const wf = await createWorkflow(token, approvalChain(3600));
    const started = await startRun(token, wf.id, { topic: 'bees' });
    const waiting = await waitForRun(token, wf.id, started.id, (r) => r.status === 'waiting');
    expect(waiting.nodes.map((n) => n.status)).toEqual(['succeeded', 'waiting', 'pending']);

    expectError(
      await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/events`, {
        token,
        body: { type: 'approval', node_id: 'draft', approved: true },
      }),
      409,
      'conflict',
    );
    expectError(
      await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/events`, { token, body: { type: 'approval', node_id: 'review' } }),
      400,
      'validation_error',
    );
    const ok = await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/events`, {
      token,
      body: { type: 'approval', node_id: 'review', approved: true, comment: 'ship it' },
    });
    expect(ok.status).toBe(200);
    const done = await waitForRun(token, wf.id, started.id);
    expect(done.status).toBe('succeeded');
    expect(done.nodes[1]!.output!.data).toMatchObject({ approved: true, comment: 'ship it', timed_out: false });
    // A decision is accepted once.
    expectError(
      await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/events`, {
        token,
        body: { type: 'approval', node_id: 'review', approved: false },
      }),
      409,
      'conflict',
    );
  });

  it('time out when asked to, and a rejection fails the run', async () => {
    const wf = await createWorkflow(token, approvalChain(1));
    const started = await startRun(token, wf.id, { topic: 'wasps' });
    const run = await waitForRun(token, wf.id, started.id, undefined, 5000);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('approval timed out');
    expect(run.nodes[1]!.output!.data).toMatchObject({ approved: false, timed_out: true });

    const auto = await createWorkflow(token, approvalChain(1, 'approve'));
    const approved = await waitForRun(token, auto.id, (await startRun(token, auto.id, { topic: 'ants' })).id, undefined, 5000);
    expect(approved.status).toBe('succeeded');
  });
});

describe('branches', () => {
  const branching = {
    name: 'branching',
    nodes: [
      { id: 'facts', type: 'analyze', source: '{{input.text}}', analyses: ['sentiment'] },
      {
        id: 'gate',
        type: 'branch',
        depends_on: ['facts'],
        condition: { left: '{{nodes.facts.output.sentiment}}', operator: 'eq', right: 'negative' },
        then: ['apology'],
        else: ['thanks'],
      },
      { id: 'apology', type: 'transform', depends_on: ['gate'], source: 'Sorry to hear that', operations: [{ op: 'trim' }] },
      { id: 'thanks', type: 'transform', depends_on: ['gate'], source: 'Thank you', operations: [{ op: 'trim' }] },
      {
        id: 'reply',
        type: 'transform',
        depends_on: ['apology', 'thanks'],
        source: '{{nodes.apology.output}}{{nodes.thanks.output}}!',
        operations: [{ op: 'trim' }],
      },
      { id: 'after_apology', type: 'transform', depends_on: ['apology'], source: 'escalate', operations: [{ op: 'trim' }] },
    ],
  };

  it('run the chosen arm, skip the other and what only follows it, and join afterwards', async () => {
    const wf = await createWorkflow(token, branching);
    const sad = await waitForRun(token, wf.id, (await startRun(token, wf.id, { text: 'This is terrible, awful and broken.' })).id);
    expect(sad.status).toBe('succeeded');
    const status = (r: typeof sad) => Object.fromEntries(r.nodes.map((n) => [n.id, n.status]));
    expect(status(sad)).toEqual({
      facts: 'succeeded',
      gate: 'succeeded',
      apology: 'succeeded',
      thanks: 'skipped',
      reply: 'succeeded',
      after_apology: 'succeeded',
    });
    expect(sad.nodes.find((n) => n.id === 'reply')!.output!.text).toBe('Sorry to hear that!');
    expect(sad.nodes.find((n) => n.id === 'gate')!.output!.data).toEqual({ result: true, chosen: ['apology'] });

    const happy = await waitForRun(token, wf.id, (await startRun(token, wf.id, { text: 'Wonderful, great and lovely work!' })).id);
    expect(status(happy)).toEqual({
      facts: 'succeeded',
      gate: 'succeeded',
      apology: 'skipped',
      thanks: 'succeeded',
      reply: 'succeeded',
      after_apology: 'skipped',
    });
    expect(happy.nodes.find((n) => n.id === 'reply')!.output!.text).toBe('Thank you!');
  });
});

describe('concurrency', () => {
  it('runs independent nodes in parallel, never more than the workflow allows', async () => {
    const tags = Object.fromEntries(['a', 'b', 'c', 'd'].map((id) => [id, unique(id)]));
    const nodes = Object.entries(tags).map(([id, tag]) => ({ id, type: 'generate', provider: 'openai', model: `hold-${tag}`, prompt: id }));
    const wf = await createWorkflow(token, { name: 'parallel', settings: { concurrency: 2, fallback_providers: [] }, nodes });
    const started = await startRun(token, wf.id);
    const running = (r: RunJson) => r.nodes.filter((n) => n.status === 'running').map((n) => n.id);
    // Two start at once and the others wait, however long the first two take; each one that
    // ends lets exactly one more start.
    const first = await waitForRun(token, wf.id, started.id, (r) => running(r).length === 2);
    expect(first.nodes.filter((n) => n.status === 'pending')).toHaveLength(2);
    await releaseLlm(tags[running(first)[0]!]!);
    const second = await waitForRun(
      token,
      wf.id,
      started.id,
      (r) => r.nodes.filter((n) => n.status === 'succeeded').length === 1 && running(r).length === 2,
    );
    expect(second.nodes.filter((n) => n.status === 'pending')).toHaveLength(1);
    for (const tag of Object.values(tags)) await releaseLlm(tag);
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status).toBe('succeeded');
    const spans = run.attempts.map(
      (a) => [Date.parse(a.started_at), Date.parse(a.started_at) + (a as unknown as { latency_ms: number }).latency_ms] as const,
    );
    let maxOverlap = 0;
    for (const [start] of spans) maxOverlap = Math.max(maxOverlap, spans.filter(([s, e]) => s <= start && start < e).length);
    expect(maxOverlap).toBe(2);
  });
});

describe('run deadline', () => {
  it('does not count time spent waiting for an approval', async () => {
    const wf = await createWorkflow(token, { ...approvalChain(3600), settings: { timeout_seconds: 1 } });
    const started = await startRun(token, wf.id, { topic: 'patience' });
    await waitForRun(token, wf.id, started.id, (r) => r.status === 'waiting');
    await new Promise((r) => setTimeout(r, 1300));
    expect(
      (
        await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/events`, {
          token,
          body: { type: 'approval', node_id: 'review', approved: true },
        })
      ).status,
    ).toBe(200);
    expect((await waitForRun(token, wf.id, started.id)).status).toBe('succeeded');
  });

  it('fails a run that is still working when its timeout passes', async () => {
    const tag = unique('dl');
    const wf = await createWorkflow(token, {
      name: 'slow',
      settings: { timeout_seconds: 1, fallback_providers: [] },
      // The provider answers only when released: the node is still working at the deadline.
      nodes: [{ id: 'a', type: 'generate', provider: 'openai', model: `hold-${tag}`, prompt: 'x' }],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id)).id, undefined, 5000);
    await releaseLlm(tag);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/timeout/);
  });
});

describe('subchains', () => {
  it('cancelling the parent cancels the child run', async () => {
    const tag = unique('ch');
    const child = await createWorkflow(token, {
      name: 'slow child',
      settings: { fallback_providers: [] },
      nodes: [{ id: 'a', type: 'generate', provider: 'openai', model: `hold-${tag}`, prompt: 'x' }],
    });
    const parent = await createWorkflow(token, { name: 'parent2', nodes: [{ id: 'c', type: 'subchain', workflow_id: child.id }] });
    const started = await startRun(token, parent.id);
    const waiting = await waitForRun(token, parent.id, started.id, (r) => r.nodes[0]!.child_run_id !== null);
    await api('POST', `/api/v3/workflows/${parent.id}/runs/${started.id}/cancel`, { token });
    const childRun = await waitForRun(token, child.id, waiting.nodes[0]!.child_run_id!);
    await releaseLlm(tag);
    expect(childRun.status).toBe('cancelled');
    expect(childRun.error).toMatch(/parent run/);
  });

  it('a subchain node awaits its child run and uses its result', async () => {
    const child = await createWorkflow(token, {
      name: 'child',
      nodes: [
        { id: 'expand', type: 'generate', prompt: 'Write a paragraph about {{input.subject}}' },
        { id: 'short', type: 'summarize', depends_on: ['expand'], max_words: 30 },
      ],
    });
    const parent = await createWorkflow(token, {
      name: 'parent',
      nodes: [
        { id: 'pick', type: 'transform', source: '{{input.topic}}', operations: [{ op: 'trim' }, { op: 'lowercase' }] },
        { id: 'child', type: 'subchain', depends_on: ['pick'], workflow_id: child.id, input: { subject: '{{nodes.pick.output}}' } },
        {
          id: 'final',
          type: 'transform',
          depends_on: ['child'],
          source: 'Child said: {{nodes.child.output}}',
          operations: [{ op: 'trim' }],
        },
      ],
    });
    const run = await waitForRun(token, parent.id, (await startRun(token, parent.id, { topic: '  Coral Reefs ' })).id);
    expect(run.status, JSON.stringify(run.nodes)).toBe('succeeded');
    const sub = run.nodes.find((n) => n.id === 'child')!;
    expect(sub.child_run_id).toEqual(expect.any(Number));
    const childRun = await api('GET', `/api/v3/workflows/${child.id}/runs/${sub.child_run_id}`, { token });
    expect(childRun.json).toMatchObject({ status: 'succeeded', parent_run_id: run.id, input: { subject: 'coral reefs' } });
    const summary = childRun.json.nodes.find((n: { id: string }) => n.id === 'short').output.text;
    expect(sub.output!.text).toBe(summary);
    expect(run.nodes.find((n) => n.id === 'final')!.output!.text).toBe(`Child said: ${summary}`);
  });
});

describe('context management', () => {
  it('replaces oversized upstream documents with summaries and records it', async () => {
    const sentence = (i: number) =>
      `Fact number ${i} explains how tidal energy converts the motion of ocean water into electricity for coastal towns.`;
    const big = Array.from({ length: 200 }, (_, i) => sentence(i)).join(' ');
    const wf = await createWorkflow(token, {
      name: 'budget',
      settings: { context_budget_tokens: 1500 },
      nodes: [
        { id: 'research', type: 'transform', source: '{{input.material}}', operations: [{ op: 'trim' }] },
        {
          id: 'essay',
          type: 'generate',
          depends_on: ['research'],
          prompt: 'Write an essay from these notes:\n{{nodes.research.output}}',
          max_tokens: 300,
        },
      ],
    });
    const started = await startRun(token, wf.id, { material: big });
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    const essay = run.nodes.find((n) => n.id === 'essay')! as unknown as { context_compacted: boolean };
    expect(essay.context_compacted).toBe(true);
    const events = await api('GET', `/api/v3/workflows/${wf.id}/runs/${started.id}/events?limit=1000`, { token });
    const compacted = events.json.items.find((e: { type: string }) => e.type === 'context.compacted');
    expect(compacted.data.replaced).toEqual(['research']);
    expect(compacted.data.tokens_before ?? compacted.data.tokensBefore).toBeGreaterThan(1500);
    expect(compacted.data.tokens_after ?? compacted.data.tokensAfter).toBeLessThanOrEqual(1500);
  });
});

describe('event stream (SSE)', () => {
  it('streams stored then live events and resumes from Last-Event-ID', async () => {
    const wf = await createWorkflow(token, {
      name: 'stream',
      nodes: [
        { id: 'a', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
        { id: 'b', type: 'generate', depends_on: ['a'], prompt: 'Write an article from this outline:\n{{nodes.a.output}}' },
      ],
    });
    const started = await startRun(token, wf.id, { topic: 'kites' });
    const res = await SELF.fetch(`${BASE}/api/v3/workflows/${wf.id}/runs/${started.id}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text(); // the stream ends when the run does
    const frames = text
      .trim()
      .split('\n\n')
      .map((f) => Object.fromEntries(f.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)])));
    const seqs = frames.map((f) => Number(f.id));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(frames.at(-1)!.event).toBe('run.succeeded');
    expect(frames.some((f) => f.event === 'node.token')).toBe(true);

    const resumed = await SELF.fetch(`${BASE}/api/v3/workflows/${wf.id}/runs/${started.id}/stream`, {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': '4' },
    });
    const again = (await resumed.text()).trim().split('\n\n');
    expect(again[0]).toMatch(/^id: 5\n/);
    expect(again).toHaveLength(frames.length - 4);
  });
});

describe('versions and ownership', () => {
  it('a run stays pinned to the version it started with', async () => {
    const wf = await createWorkflow(token, {
      name: 'pinned',
      nodes: [{ id: 'a', type: 'transform', source: 'version one {{input.x}}', operations: [{ op: 'uppercase' }] }],
    });
    const started = await startRun(token, wf.id, { x: 'go' });
    const updated = await api('PUT', `/api/v3/workflows/${wf.id}`, {
      token,
      body: { name: 'pinned', nodes: [{ id: 'z', type: 'transform', source: 'version two', operations: [{ op: 'trim' }] }] },
    });
    expect(updated.json.version).toBe(2);
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.workflow_version).toBe(1);
    expect(run.nodes.map((n) => [n.id, n.output?.text])).toEqual([['a', 'VERSION ONE GO']]);
    const next = await waitForRun(token, wf.id, (await startRun(token, wf.id)).id);
    expect(next.workflow_version).toBe(2);
    expect(next.nodes.map((n) => n.id)).toEqual(['z']);
  });

  it("another user's runs answer 404, and so do runs under the wrong workflow", async () => {
    const wf = await createWorkflow(token, {
      name: 'private run',
      nodes: [{ id: 'a', type: 'transform', source: 'x', operations: [{ op: 'trim' }] }],
    });
    const run = await startRun(token, wf.id);
    const other = await registerAndLogin(unique('other'));
    expectError(await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}`, { token: other.token }), 404, 'not_found');
    expectError(await api('POST', `/api/v3/workflows/${wf.id}/runs/${run.id}/cancel`, { token: other.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/events`, { token: other.token }), 404, 'not_found');
    expectError(await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token: other.token, body: { input: {} } }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${wf.id + 1000}/runs/${run.id}`, { token }), 404, 'not_found');
  });
});
