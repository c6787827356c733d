import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('chain'))).token;
});

const blogChain = {
  name: 'Blog post',
  nodes: [
    { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
    { id: 'draft', type: 'generate', depends_on: ['outline'], prompt: 'Write an article from this outline:\n{{nodes.outline.output}}' },
    { id: 'headline', type: 'title', depends_on: ['draft'], style: 'blog' },
  ],
};

describe('document chains with the local provider', () => {
  it('outline → draft → title yields three linked documents, each built on its upstream output', async () => {
    const wf = await createWorkflow(token, blogChain);
    const started = await startRun(token, wf.id, { topic: 'solar power for small farms' });
    expect(started.workflow_version).toBe(1);
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status, JSON.stringify(run.nodes)).toBe('succeeded');

    const [outline, draft, headline] = ['outline', 'draft', 'headline'].map((id) => run.nodes.find((n) => n.id === id)!);
    expect(outline!.output!.text.toLowerCase()).toContain('solar power');
    // The draft develops the outline: its key lines reappear in it.
    const outlinePoints = outline!
      .output!.text.split('\n')
      .map((l) => l.replace(/^[\s#*\-\d.]+/, '').trim())
      .filter((l) => l.length > 12);
    expect(outlinePoints.length).toBeGreaterThan(1);
    expect(outlinePoints.some((p) => draft!.output!.text.includes(p))).toBe(true);
    expect(headline!.output!.text.length).toBeGreaterThan(3);
    expect(headline!.output!.text.length).toBeLessThanOrEqual(80);

    const docs = await env.DB.prepare('SELECT id, node_id, parent_id, title, content FROM documents WHERE run_id = ? ORDER BY id')
      .bind(run.id)
      .all<{ id: number; node_id: string; parent_id: number | null; title: string; content: string }>();
    expect(docs.results.map((d) => d.node_id)).toEqual(['outline', 'draft', 'headline']);
    const [d1, d2, d3] = docs.results;
    expect(d1!.parent_id).toBeNull();
    expect(d2!.parent_id).toBe(d1!.id);
    expect(d3!.parent_id).toBe(d2!.id);
    expect(run.nodes.map((n) => n.output!.document_id)).toEqual([d1!.id, d2!.id, d3!.id]);
    expect(run.output).toMatchObject({ headline: { text: headline!.output!.text, document_id: d3!.id } });

    // Every attempt is recorded with its provider and model; every node ran exactly once.
    expect(run.attempts.map((a) => [a.node_id, a.attempt, a.status, a.provider])).toEqual([
      ['outline', 1, 'succeeded', 'local'],
      ['draft', 1, 'succeeded', 'local'],
      ['headline', 1, 'succeeded', 'local'],
    ]);
  });

  it('records every state change as an ordered event, readable after any sequence number', async () => {
    const wf = await createWorkflow(token, blogChain);
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tea' })).id);
    const all = await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/events?limit=1000`, { token });
    expect(all.status).toBe(200);
    const items: { seq: number; type: string; node_id: string | null }[] = all.json.items;
    expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
    const types = items.map((e) => e.type);
    expect(types[0]).toBe('run.created');
    expect(types).toContain('run.started');
    expect(types.at(-1)).toBe('run.succeeded');
    expect(types.filter((t) => t === 'node.succeeded')).toHaveLength(3);
    expect(types).toContain('node.token');
    expect(types.filter((t) => t === 'document.created')).toHaveLength(3);
    const tokens = items.filter((e) => e.type === 'node.token' && e.node_id === 'outline') as unknown as { data: { text: string } }[];
    expect(tokens.map((t) => t.data.text).join('')).toBe(run.nodes[0]!.output!.text);

    const after = await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/events?after=5`, { token });
    expect(after.json.items[0].seq).toBe(6);
  });

  it('rejects cycles and dangling references at definition time with 400', async () => {
    expectError(
      await api('POST', '/api/v3/workflows', {
        token,
        body: {
          name: 'c',
          nodes: [
            { id: 'a', type: 'title', depends_on: ['b'] },
            { id: 'b', type: 'title', depends_on: ['a'] },
          ],
        },
      }),
      400,
      'validation_error',
    );
    expectError(
      await api('POST', '/api/v3/workflows', {
        token,
        body: { name: 'd', nodes: [{ id: 'a', type: 'generate', prompt: '{{nodes.ghost.output}}' }] },
      }),
      400,
      'validation_error',
    );
  });
});
