import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createWorkflow,
  expectError,
  llmStats,
  poll,
  registerAndLogin,
  releaseLlm,
  type RunJson,
  startRun,
  unique,
  waitForRun,
} from '../helpers';

/*
 * The map node: one node template per item of a list, at most `concurrency` at a time, each item
 * durable on its own. The items here run on the scripted fake provider (test/fake-llm.ts), whose
 * `prompted-<tag>` model does what each item's prompt says: [slow:<ms>], [fail], [hold:<key>].
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('map'))).token;
});

const mapNode = (tag: string, extra: Record<string, unknown> = {}) => ({
  id: 'sections',
  type: 'map',
  items: '{{input.sections}}',
  node: {
    type: 'generate',
    provider: 'openai',
    model: `prompted-${tag}`,
    prompt: 'Section {{index}}: {{item.title}} {{item.mode}}',
    retry: { max_attempts: 1 },
  },
  ...extra,
});
const settings = { fallback_providers: [] };
const sections = (n: number, mode: (i: number) => string = () => '') =>
  Array.from({ length: n }, (_, i) => ({ title: `part ${i}`, mode: mode(i) }));

const events = async (wfId: number, runId: number) =>
  (await api('GET', `/api/v3/workflows/${wfId}/runs/${runId}/events?after=0&limit=1000`, { token })).json.items as {
    type: string;
    node_id: string | null;
    data: Record<string, unknown>;
  }[];

/** The largest number of item attempts in flight at once, from the recorded attempt times. */
function maxOverlap(run: RunJson, prefix: string): number {
  const spans = run.attempts
    .filter((a) => a.node_id.startsWith(`${prefix}[`))
    .map((a) => [Date.parse(a.started_at), Date.parse(a.started_at) + (a as unknown as { latency_ms: number }).latency_ms] as const);
  let max = 0;
  for (const [start] of spans) max = Math.max(max, spans.filter(([s, e]) => s <= start && start < e).length);
  return max;
}

describe('map node', () => {
  it('runs 50 items, at most 5 at once, and keeps their order', async () => {
    const tag = unique('fifty');
    const wf = await createWorkflow(token, {
      name: 'fan out',
      settings,
      nodes: [
        mapNode(tag, { concurrency: 5 }),
        { id: 'stitch', type: 'transform', depends_on: ['sections'], operations: [{ op: 'trim' }] },
      ],
    });
    const started = await startRun(token, wf.id, { sections: sections(50, () => '[slow:60]') });
    const run = await waitForRun(token, wf.id, started.id, undefined, 30_000);
    expect(run.status).toBe('succeeded');
    expect(maxOverlap(run, 'sections')).toBe(5);
    const map = run.nodes.find((n) => n.id === 'sections')!;
    expect(map.progress).toMatchObject({ total: 50, succeeded: 50 });
    const items = map.output!.data.items as { index: number; status: string; text: string }[];
    expect(items.map((i) => i.index)).toEqual([...Array(50).keys()]);
    items.forEach((item, i) => {
      expect(item.text).toContain(`Section ${i}: part ${i}`);
    });
    // Downstream sees the joined text, in list order.
    const stitched = run.nodes.find((n) => n.id === 'stitch')!.output!.text;
    expect(stitched.indexOf('Section 3: part 3')).toBeLessThan(stitched.indexOf('Section 40: part 40'));
    expect((await llmStats(tag)).calls).toBe(50);
    // Each item's progress is in the run's event log.
    const log = await events(wf.id, started.id);
    expect(log.filter((e) => e.type === 'map.item_succeeded').map((e) => e.data.index)).toHaveLength(50);
    expect(log.find((e) => e.type === 'map.started')?.data).toMatchObject({ items: 50, concurrency: 5 });
  });

  it('an eviction mid-map runs again only the items that were in flight, never a finished one', async () => {
    const tag = unique('evict');
    const key = unique('late');
    const wf = await createWorkflow(token, { name: 'evicted map', settings, nodes: [mapNode(tag, { concurrency: 2 })] });
    // Items 0–3 answer at once; 4 and 5 hold until released, so they are in flight at the eviction.
    const started = await startRun(token, wf.id, { sections: sections(6, (i) => (i >= 4 ? `[hold:${key}]` : '')) });
    await poll(
      () => waitForRun(token, wf.id, started.id, () => true),
      (r) => r.nodes[0]!.progress?.succeeded === 4,
    );
    const stub = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${started.id}`));
    await runInDurableObject(stub, (_instance, state) => {
      try {
        state.abort('test: simulated eviction');
      } catch {
        // abort() throws inside the object by design
      }
    }).catch(() => undefined);
    const fresh = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${started.id}`));
    const alarm = runDurableObjectAlarm(fresh);
    await poll(
      () => events(wf.id, started.id),
      (log) => log.filter((e) => e.type === 'map.item_interrupted').length === 2,
    );
    await releaseLlm(key);
    await alarm;
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status).toBe('succeeded');
    const succeeded = run.attempts.filter((a) => a.status === 'succeeded').map((a) => a.node_id);
    expect(succeeded.sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `sections[${i}]`).sort());
    // 6 items, plus one repeated call for each of the two interrupted ones: none for items 0–3.
    expect(
      run.attempts
        .filter((a) => a.status === 'interrupted')
        .map((a) => a.node_id)
        .sort(),
    ).toEqual(['sections[4]', 'sections[5]']);
    expect((await llmStats(tag)).calls).toBe(8);
    const prompts = (await llmStats(tag)).prompts;
    for (const i of [0, 1, 2, 3]) expect(prompts.filter((p) => p.startsWith(`Section ${i}:`))).toHaveLength(1);
  });

  it('fail_fast: the first failed item fails the node and stops the rest', async () => {
    const tag = unique('fast');
    const key = unique('stuck');
    const wf = await createWorkflow(token, { name: 'fail fast', settings, nodes: [mapNode(tag, { concurrency: 2 })] });
    const started = await startRun(token, wf.id, { sections: sections(5, (i) => (i === 1 ? '[fail]' : `[hold:${key}]`)) });
    const run = await waitForRun(token, wf.id, started.id);
    await releaseLlm(key);
    expect(run.status).toBe('failed');
    expect(run.nodes[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^item 1 failed: .*400/) });
    // Item 0 was running: it was stopped; items 2–4 never started.
    expect((await llmStats(tag)).calls).toBe(2);
  });

  it('collect: every item runs; the failures are listed in the output', async () => {
    const tag = unique('collect');
    const wf = await createWorkflow(token, {
      name: 'collect',
      settings,
      nodes: [mapNode(tag, { concurrency: 3, on_item_failure: 'collect' })],
    });
    const started = await startRun(token, wf.id, { sections: sections(5, (i) => (i % 2 ? '[fail]' : '')) });
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status).toBe('succeeded');
    const data = run.nodes[0]!.output!.data;
    expect(data).toMatchObject({ count: 5, succeeded: 3, failed: 2 });
    expect((data.items as { status: string }[]).map((i) => i.status)).toEqual(['succeeded', 'failed', 'succeeded', 'failed', 'succeeded']);
    expect((data.items as { error: string | null }[])[1]!.error).toMatch(/400/);
    expect((await llmStats(tag)).calls).toBe(5);
  });

  it('refuses a list longer than max_items instead of cutting it, and anything that is not a list', async () => {
    const tag = unique('limit');
    const wf = await createWorkflow(token, { name: 'limit', settings, nodes: [mapNode(tag, { max_items: 3 })] });
    const tooMany = await waitForRun(token, wf.id, (await startRun(token, wf.id, { sections: sections(4) })).id);
    expect(tooMany.status).toBe('failed');
    expect(tooMany.nodes[0]!.error).toBe('the list has 4 items; max_items is 3');
    const notList = await waitForRun(token, wf.id, (await startRun(token, wf.id, { sections: 'one, two' })).id);
    expect(notList.nodes[0]!.error).toBe('items must be a list; {{input.sections}} is text');
    expect((await llmStats(tag)).calls).toBe(0);
  });

  it('is checked when saved: items is one reference, and item/index only exist inside the map', async () => {
    const bad = await api('POST', '/api/v3/workflows', {
      token,
      body: {
        name: 'bad map',
        nodes: [
          { ...mapNode('x'), items: 'sections: {{input.sections}}' },
          { id: 'after', type: 'generate', depends_on: ['sections'], prompt: 'About {{item.title}}' },
        ],
      },
    });
    expectError(bad, 400, 'validation_error');
    const messages = bad.json.error.details.map((d: { path: (string | number)[]; message: string }) => `${d.path.join('.')}: ${d.message}`);
    expect(messages).toContainEqual(expect.stringMatching(/^nodes\.0\.items: one reference to a list/));
    expect(messages).toContainEqual(expect.stringMatching(/^nodes\.1\.prompt: unknown template variable "\{\{item\.title\}\}"/));
  });
});
