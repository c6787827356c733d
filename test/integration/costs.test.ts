import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, llmStats, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * Cost accounting and budgets. Calls go to the scripted OpenAI-compatible fake, whose answers
 * report their token usage; an administrator prices the fake's models, so every figure can be
 * checked against price × tokens.
 */

let admin: string;
let token: string;
let userId: number;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('costadmin'))).token;
  const user = await registerAndLogin(unique('spender'));
  token = user.token;
  userId = user.user.id;
});

const settings = { fallback_providers: [] };
const gen = (id: string, model: string, prompt: string, depends_on: string[] = []) => ({
  id,
  type: 'generate',
  provider: 'openai',
  model,
  prompt,
  depends_on,
  max_tokens: 50,
  retry: { max_attempts: 1 },
});
const chain = (model: string, extra: Record<string, unknown> = {}) => ({
  name: 'three steps',
  settings: { ...settings, ...extra },
  nodes: [
    gen('a', model, 'Write part a about {{input.topic}}'),
    gen('b', model, 'Write part b after {{nodes.a.output}}', ['a']),
    gen('c', model, 'Write part c after {{nodes.b.output}}', ['b']),
  ],
});
const price = (model: string, input: number, output: number) =>
  api('PUT', `/api/v3/costs/prices/openai/${model}`, { token: admin, body: { input_per_mtok: input, output_per_mtok: output } });

type Attempt = { node_id: string; status: string; tokens_in: number; tokens_out: number; cost_usd: number | null };

describe('cost accounting', () => {
  it('charges each attempt its tokens at the price in force, and adds them up for the run', async () => {
    const model = `prompted-${unique('priced')}`;
    expect((await price(model, 1000, 3000)).json).toMatchObject({ input_per_mtok: 1000, output_per_mtok: 3000, source: 'admin' });
    const wf = await createWorkflow(token, chain(model));
    const run = (await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id)) as unknown as {
      status: string;
      attempts: Attempt[];
      spent: { tokens_in: number; tokens_out: number; cost_usd: number };
    };
    expect(run.status).toBe('succeeded');
    expect(run.attempts).toHaveLength(3);
    for (const a of run.attempts) {
      expect(a.tokens_in).toBeGreaterThan(0);
      expect(a.cost_usd).toBeCloseTo((a.tokens_in * 1000 + a.tokens_out * 3000) / 1_000_000, 12);
    }
    const sum = (f: (a: Attempt) => number) => run.attempts.reduce((n, a) => n + f(a), 0);
    expect(run.spent.tokens_in).toBe(sum((a) => a.tokens_in));
    expect(run.spent.tokens_out).toBe(sum((a) => a.tokens_out));
    expect(run.spent.cost_usd).toBeCloseTo(
      sum((a) => a.cost_usd!),
      12,
    );
    // The list and the month's usage report the same figures, from D1.
    const list = await api('GET', `/api/v3/workflows/${wf.id}/runs`, { token });
    expect(list.json.items[0].cost_usd).toBeCloseTo(run.spent.cost_usd, 12);
    const usage = await api('GET', '/api/v3/costs/usage', { token });
    const byModel = usage.json.by_model.find((m: { model: string }) => m.model === model);
    expect(byModel).toMatchObject({ provider: 'openai', calls: 3, tokens_in: run.spent.tokens_in, tokens_out: run.spent.tokens_out });
    expect(byModel.cost_usd).toBeCloseTo(run.spent.cost_usd, 12);
    const analytics = (await api('GET', `/api/v3/workflows/${wf.id}/analytics`, { token })).json;
    expect(analytics.cost_usd.total).toBeCloseTo(run.spent.cost_usd, 12);
    expect(analytics.cost_usd.per_run).toBeCloseTo(run.spent.cost_usd, 12);
    expect(analytics.runs_per_day.at(-1).cost_usd).toBeCloseTo(run.spent.cost_usd, 12);
    expect(usage.json.by_workflow.find((w: { workflow_id: number }) => w.workflow_id === wf.id).cost_usd).toBeCloseTo(
      run.spent.cost_usd,
      12,
    );
  });

  it('a model with no known price costs null per attempt, not a made-up figure', async () => {
    const model = `prompted-${unique('unpriced')}`;
    const wf = await createWorkflow(token, { name: 'one', settings, nodes: [gen('a', model, 'Hello {{input.topic}}')] });
    const run = (await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'x' })).id)) as unknown as { attempts: Attempt[] };
    expect(run.attempts[0]!.cost_usd).toBeNull();
    const prices = await api('GET', '/api/v3/costs/prices', { token });
    expect(prices.status).toBe(200);
    expect(prices.json.items.find((p: { provider: string }) => p.provider === 'local')).toMatchObject({
      input_per_mtok: 0,
      output_per_mtok: 0,
    });
  });

  it('only administrators set prices; a bad price changes nothing', async () => {
    const model = `prompted-${unique('guarded')}`;
    expectError(
      await api('PUT', `/api/v3/costs/prices/openai/${model}`, { token, body: { input_per_mtok: 1, output_per_mtok: 1 } }),
      403,
      'forbidden',
    );
    expectError(await price(model, -1, 1), 400, 'validation_error');
    expect(await env.DB.prepare('SELECT count(*) AS n FROM model_prices WHERE model = ?').bind(model).first('n')).toBe(0);
    expect((await price(model, 1, 2)).status).toBe(200);
    expect((await api('DELETE', `/api/v3/costs/prices/openai/${model}`, { token: admin })).status).toBe(204);
    expectError(await api('DELETE', `/api/v3/costs/prices/openai/${model}`, { token: admin }), 404, 'not_found');
  });
});

describe('budgets', () => {
  it('max_tokens: pauses before the call that could pass it, and goes on when resumed with more', async () => {
    const tag = unique('tokens');
    const model = `prompted-${tag}`;
    // a's call could take its prompt (6) + 50; b's prompt carries a's answer, so b's could not fit in 70.
    const wf = await createWorkflow(token, chain(model, { max_tokens: 70 }));
    const started = await startRun(token, wf.id, { topic: 'tides' });
    const paused = (await waitForRun(token, wf.id, started.id, (r) => r.status === 'paused')) as Awaited<ReturnType<typeof waitForRun>> & {
      pause_reason: { code: string; limit: string; message: string };
      spent: { tokens_in: number; tokens_out: number };
      budget: unknown;
    };
    expect((await llmStats(tag)).calls).toBe(1);
    expect(paused.pause_reason).toMatchObject({ code: 'budget_exceeded', limit: 'max_tokens' });
    expect(paused.pause_reason.message).toMatch(/the next call could use \d+ tokens and the run has \d+ of its max_tokens \(70\) left/);
    expect(paused.budget).toEqual({ max_cost_usd: null, max_tokens: 70 });
    expect(paused.spent.tokens_in + paused.spent.tokens_out).toBeLessThanOrEqual(70);
    expect(paused.nodes.map((n) => n.status)).toEqual(['succeeded', 'pending', 'pending']);
    const events = (await api('GET', `/api/v3/workflows/${wf.id}/runs/${started.id}/events?limit=1000`, { token })).json.items;
    expect(events.find((e: { type: string }) => e.type === 'node.budget_exceeded')).toMatchObject({
      node_id: 'b',
      data: { limit: 'max_tokens', allowed: 70 },
    });
    expect(events.find((e: { type: string }) => e.type === 'run.paused').data).toMatchObject({
      reason: 'budget_exceeded',
      limit: 'max_tokens',
    });

    // Resuming without more budget pauses again at once, with no call.
    await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/resume`, { token });
    await waitForRun(token, wf.id, started.id, (r) => r.status === 'paused' && r.last_event_seq > paused.last_event_seq);
    expect((await llmStats(tag)).calls).toBe(1);

    const resumed = await api('POST', `/api/v3/workflows/${wf.id}/runs/${started.id}/resume`, { token, body: { max_tokens: 10_000 } });
    expect(resumed.status).toBe(200);
    const done = await waitForRun(token, wf.id, started.id);
    expect(done.status).toBe('succeeded');
    expect((await llmStats(tag)).calls).toBe(3);
    expect((done as unknown as { pause_reason: unknown }).pause_reason).toBeNull();
  });

  it('max_cost_usd from the run request: no call is made that could pass it', async () => {
    const tag = unique('usd');
    const model = `prompted-${tag}`;
    await price(model, 100, 100);
    const wf = await createWorkflow(token, chain(model));
    // a's call could cost (6 + 50) tokens × $100/M = $0.0056: more than the budget.
    const res = await api('POST', `/api/v3/workflows/${wf.id}/runs`, {
      token,
      body: { input: { topic: 'tides' }, budget: { max_cost_usd: 0.005 } },
    });
    expect(res.status).toBe(201);
    const paused = await waitForRun(token, wf.id, res.json.id, (r) => r.status === 'paused');
    expect((paused as unknown as { pause_reason: { limit: string } }).pause_reason.limit).toBe('max_cost_usd');
    expect((await llmStats(tag)).calls).toBe(0);
    await api('POST', `/api/v3/workflows/${wf.id}/runs/${res.json.id}/resume`, { token, body: { max_cost_usd: 1 } });
    const done = (await waitForRun(token, wf.id, res.json.id)) as unknown as { status: string; spent: { cost_usd: number } };
    expect(done.status).toBe('succeeded');
    expect(done.spent.cost_usd).toBeGreaterThan(0);
    expect(done.spent.cost_usd).toBeLessThanOrEqual(1);
  });

  it('a cost budget cannot be kept on a model whose price is unknown: the run pauses and says so', async () => {
    const tag = unique('noprice');
    const wf = await createWorkflow(token, chain(`prompted-${tag}`, { max_cost_usd: 5 }));
    const paused = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'x' })).id, (r) => r.status === 'paused');
    expect((paused as unknown as { pause_reason: { message: string } }).pause_reason.message).toMatch(
      /the price of openai\/prompted-.* is unknown/,
    );
    expect((await llmStats(tag)).calls).toBe(0);
  });

  it('a monthly budget covers all of a user’s runs; an administrator’s ceiling caps it', async () => {
    const tag = unique('monthly');
    const model = `prompted-${tag}`;
    await price(model, 200, 200);
    const budget = await api('PUT', '/api/v3/costs/budget', { token, body: { monthly_usd: 1000 } });
    expect(budget.status).toBe(200);
    const spentBefore = budget.json.spent_usd as number;
    // Room for exactly one call of this workflow's first node this month.
    const quoteA = ((6 + 50) * 200) / 1_000_000;
    await api('PUT', '/api/v3/costs/budget', { token, body: { monthly_usd: spentBefore + quoteA * 1.05 } });
    const wf = await createWorkflow(token, chain(model));
    const paused = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id, (r) => r.status === 'paused');
    expect((paused as unknown as { pause_reason: { limit: string } }).pause_reason.limit).toBe('monthly_usd');
    expect((await llmStats(tag)).calls).toBe(1);
    const after = await api('GET', '/api/v3/costs/budget', { token });
    expect(after.json.spent_usd).toBeGreaterThan(spentBefore);

    // The administrator's ceiling: the user's limit comes down to it and cannot go back up.
    const ceiling = await api('PUT', `/api/v3/costs/budgets/${userId}`, { token: admin, body: { ceiling_usd: 0.5 } });
    expect(ceiling.json).toMatchObject({ ceiling_usd: 0.5 });
    expectError(await api('PUT', '/api/v3/costs/budget', { token, body: { monthly_usd: 2 } }), 400, 'validation_error');
    expectError(await api('PUT', `/api/v3/costs/budgets/${userId}`, { token, body: { ceiling_usd: 9 } }), 403, 'forbidden');
    expect((await api('PUT', '/api/v3/costs/budget', { token, body: { monthly_usd: 0.25 } })).json.monthly_usd).toBe(0.25);
    await api('PUT', `/api/v3/costs/budgets/${userId}`, { token: admin, body: { ceiling_usd: null } });
    expect((await api('PUT', '/api/v3/costs/budget', { token, body: { monthly_usd: null } })).json.monthly_usd).toBeNull();
  });
});

describe('estimates', () => {
  const estimate = (wfId: number, body: Record<string, unknown>) => api('POST', `/api/v3/workflows/${wfId}/runs/estimate`, { token, body });

  it('bounds what the run then spends, call by call, and says whether it fits the budget', async () => {
    const model = `prompted-${unique('est')}`;
    await price(model, 1000, 3000);
    const wf = await createWorkflow(token, chain(model));
    const res = await estimate(wf.id, { input: { topic: 'tides' }, budget: { max_tokens: 100 } });
    expect(res.status).toBe(200);
    const e = res.json;
    expect(e).toMatchObject({ workflow_id: wf.id, calls: 3, tokens_out_max: 150, unpriced: [] });
    expect(e.nodes.map((n: { node_id: string; calls: number }) => [n.node_id, n.calls])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    // b's prompt counts a's whole output cap; each node's cost is its tokens at the price.
    expect(e.nodes[1].tokens_in).toBeGreaterThanOrEqual(50);
    for (const n of e.nodes) expect(n.cost_usd_max).toBeCloseTo((n.tokens_in * 1000 + n.tokens_out_max * 3000) / 1_000_000, 12);
    expect(e.budget).toEqual({ max_cost_usd: null, max_tokens: 100, within: false });
    expect(e.tokens_max).toBe(e.tokens_in + e.tokens_out_max);

    const run = (await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id)) as unknown as {
      spent: { tokens_in: number; tokens_out: number; cost_usd: number };
    };
    expect(run.spent.tokens_out).toBeLessThanOrEqual(e.tokens_out_max);
    expect(run.spent.cost_usd).toBeLessThanOrEqual(e.cost_usd_max);
  });

  it('counts map items from the input, loop iterations at their cap, and a structured call with its repair', async () => {
    const model = `prompted-${unique('shape')}`;
    await price(model, 100, 100);
    const wf = await createWorkflow(token, {
      name: 'shapes',
      settings,
      nodes: [
        { ...gen('outline', model, 'Outline {{input.topic}}'), output_schema: { type: 'object', properties: { t: { type: 'string' } } } },
        {
          id: 'each',
          type: 'map',
          items: '{{input.parts}}',
          node: { type: 'generate', provider: 'openai', model, prompt: 'Write {{item}}', max_tokens: 20 },
        },
        {
          id: 'polish',
          type: 'loop',
          body: ['draft'],
          until: { left: '{{nodes.draft.output}}', operator: 'contains', right: 'done' },
          max_iterations: 3,
        },
        gen('draft', model, 'Improve {{nodes.outline.output}}', ['outline']),
      ],
    });
    const e = (await estimate(wf.id, { input: { topic: 'x', parts: ['one', 'two', 'three', 'four'] } })).json;
    const calls = Object.fromEntries(e.nodes.map((n: { node_id: string; calls: number }) => [n.node_id, n.calls]));
    expect(calls).toEqual({ outline: 2, each: 4, draft: 3 });
    expect(e.nodes.find((n: { node_id: string }) => n.node_id === 'each').tokens_out_max).toBe(80);
    expect(e.assumptions).toEqual(
      expect.arrayContaining(['loops are counted at max_iterations', 'a structured-output call is counted with its one repair']),
    );
  });

  it('an unknown price makes the cost unknown, not zero; a missing input is a 400; nothing starts', async () => {
    const model = `prompted-${unique('unknown')}`;
    const wf = await createWorkflow(token, { name: 'unknown', settings, nodes: [gen('a', model, 'Hello {{input.topic}}')] });
    const e = (await estimate(wf.id, { input: { topic: 'x' }, budget: { max_cost_usd: 1 } })).json;
    expect(e).toMatchObject({ cost_usd_max: null, unpriced: [`openai/${model}`], budget: { max_cost_usd: 1, within: false } });
    const missing = await estimate(wf.id, { input: {} });
    expectError(missing, 400, 'validation_error');
    expect(missing.json.error.details[0].path).toEqual(['input', 'topic']);
    expect((await api('GET', `/api/v3/workflows/${wf.id}/runs`, { token })).json.items).toHaveLength(0);
  });
});
