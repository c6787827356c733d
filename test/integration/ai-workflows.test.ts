import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, expectError, registerAndLogin, unique, waitForRun, type RunJson } from '../helpers';

let admin: string;
let token: string;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('aiwfadmin'))).token;
  token = (await registerAndLogin(unique('aiwf'))).token;
});

// The seed README's examples, verbatim.
const seedBody = {
  name: 'Content Generation Workflow',
  workflow_type: 'content_generation',
  input_data: { topic: 'AI Automation', prompt: 'Generate content about AI automation' },
  template_name: 'content_generation',
  ai_provider: 'openai',
};

const docsOf = async (runId: number) =>
  (
    await env.DB.prepare('SELECT id, node_id FROM documents WHERE run_id = ? ORDER BY id')
      .bind(runId)
      .all<{ id: number; node_id: string }>()
  ).results;

describe('AI workflows from templates', () => {
  it('runs the seed examples: create, execute, the run completes with a document per node', async () => {
    const created = await api('POST', '/api/v3/ai-workflows', { token, body: seedBody });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    // Per-file storage: the first AI workflow of this file is number 1, as in the seed.
    expect(created.json).toMatchObject({
      id: 'ai_workflow_1',
      template_name: 'content_generation',
      workflow_type: 'content_generation',
      ai_provider: 'openai',
      node_count: 4,
    });
    expect(created.json.input_data).toEqual({ ...seedBody.input_data, audience: 'a general audience' });

    // It is an ordinary workflow, visible and runnable through /workflows.
    const wf = await api('GET', `/api/v3/workflows/${created.json.workflow_id}`, { token });
    expect(wf.status).toBe(200);
    expect(wf.json.settings.provider).toBe('openai');
    expect(wf.json.nodes.map((n: { id: string }) => n.id)).toEqual(['outline', 'draft', 'edit', 'title']);

    const exec = await api('POST', '/api/v3/ai-workflows/ai_workflow_1/execute', { token });
    expect(exec.status, JSON.stringify(exec.json)).toBe(201);
    expect(exec.json).toMatchObject({
      ai_workflow_id: 'ai_workflow_1',
      workflow_id: created.json.workflow_id,
      input: created.json.input_data,
    });

    const run = await waitForRun(token, created.json.workflow_id, exec.json.id);
    expect(run.status, JSON.stringify(run.nodes)).toBe('succeeded');
    expect(run.attempts.every((a) => a.provider === 'openai')).toBe(true);
    // The fake model echoes its prompt's first line: the outline was asked about the stored topic.
    expect(run.nodes.find((n) => n.id === 'outline')!.output!.text).toContain('AI Automation');
    const docs = await docsOf(run.id);
    expect(docs.map((d) => d.node_id)).toEqual(['outline', 'draft', 'edit', 'title']);
    expect(run.nodes.map((n) => n.output!.document_id)).toEqual(docs.map((d) => d.id));

    const one = await api('GET', '/api/v3/ai-workflows/ai_workflow_1', { token });
    expect(one.status).toBe(200);
    expect(one.json.runs).toMatchObject({ total: 1, by_status: { succeeded: 1 } });
    expect(one.json.nodes).toHaveLength(4);
  });

  it('lists templates, each with the nodes it builds', async () => {
    const res = await api('GET', '/api/v3/ai-workflows/templates', { token });
    expect(res.status).toBe(200);
    const names = res.json.items.map((t: { name: string }) => t.name);
    expect(names).toEqual([
      'content_generation',
      'blog_series',
      'summarization',
      'translation',
      'seo_analysis',
      'document_review',
      'long_document',
    ]);
    const review = res.json.items.find((t: { name: string }) => t.name === 'document_review');
    expect(review.nodes.map((n: { type: string }) => n.type)).toContain('approval');
    expect(review.parameters.find((p: { name: string }) => p.name === 'text')).toMatchObject({ required: true, type: 'string' });
  });

  it('runs document review to completion once approved through the run approval API', async () => {
    const created = await api('POST', '/api/v3/ai-workflows', {
      token,
      body: { name: 'Review Q3', template_name: 'document_review', input_data: { text: '  Revenue grew 12% this quarter. Costs fell.  ' } },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json.ai_provider).toBe('local');
    const wfId = created.json.workflow_id;
    const exec = await api('POST', `/api/v3/ai-workflows/${created.json.id}/execute`, { token });
    expect(exec.status).toBe(201);
    const waiting = await waitForRun(token, wfId, exec.json.id, (r) => r.status === 'waiting');
    expect(waiting.nodes.map((n) => [n.id, n.status])).toEqual([
      ['analysis', 'succeeded'],
      ['summary', 'succeeded'],
      ['review', 'waiting'],
      ['publish', 'pending'],
    ]);

    const ok = await api('POST', `/api/v3/workflows/${wfId}/runs/${exec.json.id}/events`, {
      token,
      body: { type: 'approval', node_id: 'review', approved: true },
    });
    expect(ok.status).toBe(200);
    const done = await waitForRun(token, wfId, exec.json.id);
    expect(done.status).toBe('succeeded');
    expect(done.nodes.find((n) => n.id === 'publish')!.output!.text).toBe('Revenue grew 12% this quarter. Costs fell.');
  });

  it('runs a blog series as a chain and a translation with its target language', async () => {
    // Both need a language model: the local provider (the tests' AI_PROVIDER) is refused, and nothing is created.
    const before = [await count('workflows'), await count('ai_workflows')];
    for (const body of [
      { name: 'Series', template_name: 'blog_series', input_data: { topic: 'bees', posts: 2 } },
      { name: 'T', workflow_type: 'translation', input_data: { text: 'Good morning', target_language: 'Spanish' } },
    ]) {
      const refused = await api('POST', '/api/v3/ai-workflows', { token, body });
      expectError(refused, 422, 'unsupported_by_provider');
      expect(refused.json.error.message).toContain('needs a language model');
    }
    expect([await count('workflows'), await count('ai_workflows')]).toEqual(before);
    const templates = (await api('GET', '/api/v3/ai-workflows/templates', { token })).json.items as {
      name: string;
      requires_language_model: boolean;
    }[];
    expect(templates.filter((t) => t.requires_language_model).map((t) => t.name)).toEqual(['blog_series', 'translation']);

    const series = await api('POST', '/api/v3/ai-workflows', {
      token,
      body: { name: 'Series', template_name: 'blog_series', ai_provider: 'openai', input_data: { topic: 'bees', posts: 2 } },
    });
    expect(series.status).toBe(201);
    const run = await waitForRun(
      token,
      series.json.workflow_id,
      (await api('POST', `/api/v3/ai-workflows/${series.json.id}/execute`, { token })).json.id,
    );
    expect(run.status).toBe('succeeded');
    expect((await docsOf(run.id)).map((d) => d.node_id)).toEqual(['post_1', 'post_2', 'series_summary']);

    const tr = await api('POST', '/api/v3/ai-workflows', {
      token,
      body: {
        name: 'T',
        workflow_type: 'translation',
        ai_provider: 'openai',
        input_data: { text: 'Good morning', target_language: 'Spanish' },
      },
    });
    expect(tr.status, JSON.stringify(tr.json)).toBe(201);
    const trRun: RunJson = await waitForRun(
      token,
      tr.json.workflow_id,
      (await api('POST', `/api/v3/ai-workflows/${tr.json.id}/execute`, { token })).json.id,
    );
    expect(trRun.status).toBe('succeeded');
    expect(trRun.nodes[0]!.output!.text).toContain('into Spanish');
  });

  it('counts stats from stored workflows and runs', async () => {
    const res = await api('GET', '/api/v3/ai-workflows/stats', { token });
    expect(res.status).toBe(200);
    const { totals, by_template, by_provider } = res.json;
    const stored = await env.DB.prepare(
      `SELECT count(*) AS n, coalesce(sum(r.tokens_in), 0) AS tin FROM runs r JOIN ai_workflows a ON a.workflow_id = r.workflow_id WHERE a.owner_id = r.owner_id AND r.owner_id = (SELECT owner_id FROM ai_workflows WHERE id = 1)`,
    ).first<{ n: number; tin: number }>();
    expect(totals.ai_workflows).toBe(4);
    expect(totals.runs).toBe(stored!.n);
    expect(totals.runs).toBe(4);
    expect(totals.runs_by_status.succeeded).toBe(4);
    expect(totals.tokens.in).toBe(stored!.tin);
    expect(totals.tokens.in).toBeGreaterThan(0);
    expect(by_template.content_generation).toMatchObject({ ai_workflows: 1, runs: 1 });
    expect(by_template.content_generation.tokens.in).toBeGreaterThan(0);
    expect(by_template.document_review.runs_by_status.succeeded).toBe(1);
    expect(by_template.seo_analysis).toMatchObject({ ai_workflows: 0, runs: 0 });
    // The blog series and the translation need a language model: both run on openai.
    expect(by_provider.openai).toEqual({ ai_workflows: 3, runs: 3 });
    expect(by_provider.local).toEqual({ ai_workflows: 1, runs: 1 });

    const list = await api('GET', '/api/v3/ai-workflows?limit=3', { token });
    expect(list.json.items.map((i: { id: string }) => i.id)).toEqual(['ai_workflow_4', 'ai_workflow_3', 'ai_workflow_2']);
    const rest = await api('GET', `/api/v3/ai-workflows?limit=3&cursor=${list.json.next_cursor}`, { token });
    expect(rest.json).toMatchObject({ items: [{ id: 'ai_workflow_1' }], next_cursor: null });
  });

  it('runs the summarisation and SEO templates to completion offline', async () => {
    for (const [template_name, input_data] of [
      [
        'summarization',
        {
          text: 'Solar panels convert sunlight into electricity. Farms use them to cut costs. Surplus power is sold to the grid.',
          max_words: 20,
        },
      ],
      ['seo_analysis', { text: 'Our bakery in Lyon bakes sourdough bread every morning with organic flour.', keywords: 'sourdough' }],
    ] as const) {
      const created = await api('POST', '/api/v3/ai-workflows', {
        token,
        body: { name: template_name, template_name, ai_provider: 'local', input_data },
      });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const run = await waitForRun(
        token,
        created.json.workflow_id,
        (await api('POST', `/api/v3/ai-workflows/${created.json.id}/execute`, { token })).json.id,
      );
      expect(run.status, JSON.stringify(run.nodes)).toBe('succeeded');
      expect(run.nodes.every((n) => n.status === 'succeeded' && n.output !== null)).toBe(true);
    }
  });

  it('refuses bad input with 400 and creates nothing', async () => {
    const before = [await count('workflows'), await count('ai_workflows')];
    const bad = [
      { ...seedBody, ai_provider: 'skynet' },
      { ...seedBody, template_name: 'nope' },
      { ...seedBody, workflow_type: 'translation' },
      { ...seedBody, input_data: {} },
      { ...seedBody, input_data: { topic: 'x', unexpected: 'y' } },
      { ...seedBody, extra: true },
      { name: 'x', input_data: { topic: 'y' } },
      { ...seedBody, template_name: 'blog_series', input_data: { topic: 'x', posts: 50 } },
    ];
    for (const body of bad) expectError(await api('POST', '/api/v3/ai-workflows', { token, body }), 400, 'validation_error');
    expect([await count('workflows'), await count('ai_workflows')]).toEqual(before);
    expectError(await api('GET', '/api/v3/ai-workflows/42', { token }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/ai-workflows/ai_workflow_999/execute', { token }), 404, 'not_found');
  });

  it("keeps users apart and follows the workflows' roles", async () => {
    expectError(await api('GET', '/api/v3/ai-workflows/ai_workflow_1', { token: admin }), 404, 'not_found');
    expectError(await api('POST', '/api/v3/ai-workflows/ai_workflow_1/execute', { token: admin }), 404, 'not_found');
    expect((await api('GET', '/api/v3/ai-workflows', { token: admin })).json.items).toEqual([]);
    expect((await api('GET', '/api/v3/ai-workflows/stats', { token: admin })).json.totals.runs).toBe(0);

    const viewer = await registerAndLogin(unique('aiwfviewer'));
    await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin, body: { role: 'viewer' } });
    expectError(await api('POST', '/api/v3/ai-workflows', { token: viewer.token, body: seedBody }), 403, 'forbidden');
    expect((await api('GET', '/api/v3/ai-workflows/templates', { token: viewer.token })).status).toBe(200);
  });

  it('returns the same run for a repeated Idempotency-Key, and hides a deleted workflow', async () => {
    const created = await api('POST', '/api/v3/ai-workflows', { token, body: { ...seedBody, ai_provider: 'local' } });
    const path = `/api/v3/ai-workflows/${created.json.id}/execute`;
    const first = await api('POST', path, { token, headers: { 'idempotency-key': 'once' } });
    const again = await api('POST', path, { token, headers: { 'idempotency-key': 'once' } });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.json.id).toBe(first.json.id);
    await waitForRun(token, created.json.workflow_id, first.json.id);

    expect((await api('DELETE', `/api/v3/workflows/${created.json.workflow_id}`, { token })).status).toBe(204);
    expectError(await api('GET', `/api/v3/ai-workflows/${created.json.id}`, { token }), 404, 'not_found');
    expectError(await api('POST', path, { token }), 404, 'not_found');
  });
});
