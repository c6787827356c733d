import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, createWorkflow, expectError, llmStats, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * Forking a run from a node: that node and everything downstream run again (with overrides),
 * every other node's outcome is taken over without a provider call. Each node here calls the
 * scripted fake under its own tag, so provider calls are counted per node.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('fork'))).token;
});

const settings = { fallback_providers: [] };
const gen = (id: string, tag: string, prompt: string, depends_on: string[] = []) => ({
  id,
  type: 'generate',
  provider: 'openai',
  model: `prompted-${tag}`,
  prompt,
  depends_on,
  retry: { max_attempts: 1 },
});

/** outline → draft → polish, plus `facts` beside draft (not downstream of it). */
function chain(t: Record<'outline' | 'facts' | 'draft' | 'polish', string>) {
  return {
    name: 'forkable chain',
    settings,
    nodes: [
      gen('outline', t.outline, 'Outline about {{input.topic}}'),
      gen('facts', t.facts, 'Facts for {{nodes.outline.output}}', ['outline']),
      gen('draft', t.draft, 'Draft from {{nodes.outline.output}}', ['outline']),
      gen('polish', t.polish, 'Polish {{nodes.draft.output}}', ['draft']),
    ],
  };
}
const tags = () => ({ outline: unique('o'), facts: unique('f'), draft: unique('d'), polish: unique('p') });
const forkOf = (wfId: number, runId: number, body: unknown, headers: Record<string, string> = {}) =>
  api('POST', `/api/v3/workflows/${wfId}/runs/${runId}/fork`, { token, body, headers });

describe('fork', () => {
  it('runs the node and what is downstream again, with the override; the rest makes no provider call', async () => {
    const t = tags();
    const wf = await createWorkflow(token, chain(t));
    const origin = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(origin.status).toBe('succeeded');
    for (const tag of Object.values(t)) expect((await llmStats(tag)).calls).toBe(1);

    const res = await forkOf(wf.id, origin.id, {
      from_node: 'draft',
      overrides: { draft: { prompt: 'For children: {{nodes.outline.output}}' } },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.forked_from).toEqual({ run_id: origin.id, node_id: 'draft' });
    const fork = await waitForRun(token, wf.id, res.json.id);
    expect(fork.status).toBe('succeeded');
    // Upstream and beside: taken over, no call. The forked node and downstream: one call each.
    expect((await llmStats(t.outline)).calls).toBe(1);
    expect((await llmStats(t.facts)).calls).toBe(1);
    expect((await llmStats(t.draft)).calls).toBe(2);
    expect((await llmStats(t.polish)).calls).toBe(2);
    expect((await llmStats(t.draft)).prompts[1]).toContain('For children: ');
    const node = (id: string) => fork.nodes.find((n) => n.id === id)!;
    const originNode = (id: string) => origin.nodes.find((n) => n.id === id)!;
    expect(node('outline').reused_from_run_id).toBe(origin.id);
    expect(node('outline').output).toEqual(originNode('outline').output);
    expect(node('facts').reused_from_run_id).toBe(origin.id);
    expect(node('draft').reused_from_run_id).toBeNull();
    expect(node('polish').output!.text).not.toBe(originNode('polish').output!.text);
    // The reused nodes spent nothing in the fork, and made no attempt there.
    expect(node('outline').tokens_in).toBe(0);
    expect(fork.attempts.map((a) => a.node_id).sort()).toEqual(['draft', 'polish']);
    // Both directions are visible: the origin lists its forks, the events say what was taken over.
    expect((await api('GET', `/api/v3/workflows/${wf.id}/runs/${origin.id}`, { token })).json.forks).toEqual([fork.id]);
    const events = (await api('GET', `/api/v3/workflows/${wf.id}/runs/${fork.id}/events?limit=1000`, { token })).json.items as {
      type: string;
      node_id: string;
      data: Record<string, unknown>;
    }[];
    expect(events.filter((e) => e.type === 'node.reused').map((e) => [e.node_id, e.data.from_run_id])).toEqual([
      ['outline', origin.id],
      ['facts', origin.id],
    ]);
    expect(fork.workflow_version).toBe(origin.workflow_version);
  });

  it('takes the origin input unless given one; an Idempotency-Key repeat starts nothing new', async () => {
    const t = tags();
    const wf = await createWorkflow(token, chain(t));
    const origin = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    const headers = { 'idempotency-key': unique('k') };
    const first = await forkOf(wf.id, origin.id, { from_node: 'outline', input: { topic: 'volcanoes' } }, headers);
    expect(first.status).toBe(201);
    const again = await forkOf(wf.id, origin.id, { from_node: 'outline', input: { topic: 'volcanoes' } }, headers);
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(first.json.id);
    const fork = await waitForRun(token, wf.id, first.json.id);
    expect(fork.input).toEqual({ topic: 'volcanoes' });
    expect((await llmStats(t.outline)).prompts[1]).toBe('Outline about volcanoes');
    const other = await forkOf(wf.id, origin.id, { from_node: 'draft' }, headers);
    expectError(other, 409, 'conflict');
  });

  it('of a newer version, runs again every node whose definition changed, and what follows it', async () => {
    const t = tags();
    const wf = await createWorkflow(token, chain(t));
    const origin = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    const v2 = chain(t);
    v2.nodes[1]!.prompt = 'Facts (v2) for {{nodes.outline.output}}';
    expect((await api('PUT', `/api/v3/workflows/${wf.id}`, { token, body: v2 })).status).toBe(200);
    const res = await forkOf(wf.id, origin.id, { from_node: 'polish', version: 'latest' });
    const fork = await waitForRun(token, wf.id, res.json.id);
    expect(fork.workflow_version).toBe(origin.workflow_version + 1);
    expect((await llmStats(t.outline)).calls).toBe(1);
    expect((await llmStats(t.draft)).calls).toBe(1);
    expect((await llmStats(t.facts)).calls).toBe(2);
    expect((await llmStats(t.polish)).calls).toBe(2);
  });

  it('refuses a fork it cannot make, naming why, and creates nothing', async () => {
    const t = tags();
    const wf = await createWorkflow(token, chain(t));
    const origin = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    const runs = await count('runs');
    const cases: [unknown, RegExp][] = [
      [{ from_node: 'nope' }, /no node "nope"/],
      [{ from_node: 'draft', overrides: { outline: { prompt: 'x' } } }, /"outline" is not run again by a fork from "draft"/],
      [{ from_node: 'draft', overrides: { draft: { depends_on: [] } } }, /cannot change depends_on/],
      [{ from_node: 'draft', overrides: { draft: { temperature: 9 } } }, /2/],
      [{ from_node: 'draft', overrides: { ghost: { prompt: 'x' } } }, /no node "ghost"/],
      [{ from_node: 'draft', input: {} }, /lacks "topic"/],
    ];
    for (const [body, message] of cases) {
      const res = await forkOf(wf.id, origin.id, body);
      expectError(res, 400, 'validation_error');
      expect(res.json.error.message).toMatch(message);
    }
    const loopWf = await createWorkflow(token, {
      name: 'loop',
      nodes: [
        { id: 'a', type: 'transform', source: 'x', operations: [{ op: 'trim' }] },
        { id: 'l', type: 'loop', depends_on: ['a'], body: ['b'], until: { left: '1', operator: 'eq', right: '1' } },
        { id: 'b', type: 'transform', depends_on: ['a'], source: 'y', operations: [{ op: 'trim' }] },
      ],
    });
    const loopRun = await waitForRun(token, loopWf.id, (await startRun(token, loopWf.id)).id);
    const inBody = await forkOf(loopWf.id, loopRun.id, { from_node: 'b' });
    expectError(inBody, 400, 'validation_error');
    expect(inBody.json.error.message).toBe('"b" is in the body of loop "l": fork from "l" instead');
    expect(await count('runs')).toBe(runs + 1);
    // Someone else's run is not found.
    const other = (await registerAndLogin(unique('other'))).token;
    const foreign = await api('POST', `/api/v3/workflows/${wf.id}/runs/${origin.id}/fork`, { token: other, body: { from_node: 'draft' } });
    expectError(foreign, 404, 'not_found');
  });
});
