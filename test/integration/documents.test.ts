import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, snapshot, startRun, unique, waitForRun } from '../helpers';

let token: string;
let runId: number;
let workflowId: number;
let docIds: number[];

beforeAll(async () => {
  token = (await registerAndLogin(unique('docs'))).token;
  const wf = await createWorkflow(token, {
    name: 'docs',
    nodes: [
      { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
      { id: 'draft', type: 'generate', depends_on: ['outline'], prompt: 'Write an article from this outline:\n{{nodes.outline.output}}' },
    ],
  });
  workflowId = wf.id;
  const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'urban beekeeping' })).id);
  runId = run.id;
  docIds = run.nodes.map((n) => n.output!.document_id!);
});

describe('documents', () => {
  it("lists a run's documents and gets one with its links", async () => {
    const list = await api('GET', `/api/v3/documents?run_id=${runId}`, { token });
    expect(list.status).toBe(200);
    expect(list.json.items.map((d: { id: number }) => d.id)).toEqual([...docIds].reverse());
    expect(list.json.items[0]).toHaveProperty('excerpt');
    expect(list.json.items[0]).not.toHaveProperty('content');
    const draft = await api('GET', `/api/v3/documents/${docIds[1]}`, { token });
    expect(draft.json).toMatchObject({
      id: docIds[1],
      kind: 'node',
      run_id: runId,
      workflow_id: workflowId,
      node_id: 'draft',
      parent_id: docIds[0],
      version: 1,
    });
    expect(draft.json.metadata).toMatchObject({ node_type: 'generate', provider: 'local' });
  });

  it('searches titles and content with full-text search', async () => {
    const hit = await api('GET', '/api/v3/documents?q=beekeeping', { token });
    expect(hit.json.items.length).toBeGreaterThanOrEqual(1);
    const miss = await api('GET', '/api/v3/documents?q=submarine', { token });
    expect(miss.json.items).toEqual([]);
    // Search syntax in user input is treated as words, not as FTS operators.
    const odd = await api('GET', `/api/v3/documents?q=${encodeURIComponent('bee* OR "x" NEAR(')}`, { token });
    expect(odd.status).toBe(200);
  });

  it('matches whole words with their stems, and a prefix only when asked with *', async () => {
    const doc = await api('POST', '/api/v3/documents', {
      token,
      body: { title: 'Harvesting notes', content: 'The orchards were harvested by volunteers.' },
    });
    expect(doc.status).toBe(201);
    const ids = async (q: string) =>
      (await api('GET', `/api/v3/documents?q=${encodeURIComponent(q)}`, { token })).json.items.map((d: { id: number }) => d.id);
    // Stemming: every form of the word finds the document.
    for (const q of ['harvest', 'harvests', 'HARVESTING', 'orchard volunteer']) expect(await ids(q)).toContain(doc.json.id);
    // A part of a word is not a word...
    expect(await ids('harv')).not.toContain(doc.json.id);
    expect(await ids('orch')).not.toContain(doc.json.id);
    // ...unless it is written as a prefix.
    expect(await ids('harv*')).toContain(doc.json.id);
    expect(await ids('orch* volunt*')).toContain(doc.json.id);
    expect(await ids('orch* submarine')).toEqual([]);
  });

  it('editing creates a new version and keeps the old ones readable', async () => {
    const before = (await api('GET', `/api/v3/documents/${docIds[0]}`, { token })).json;
    const edited = await api('PATCH', `/api/v3/documents/${docIds[0]}`, {
      token,
      body: { content: 'Edited outline about urban beekeeping.' },
    });
    expect(edited.status).toBe(200);
    expect(edited.json).toMatchObject({ version: 2, content: 'Edited outline about urban beekeeping.', title: before.title });
    const versions = await api('GET', `/api/v3/documents/${docIds[0]}/versions`, { token });
    expect(versions.json.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = await api('GET', `/api/v3/documents/${docIds[0]}/versions/1`, { token });
    expect(v1.json.content).toBe(before.content);
    expect((await api('GET', '/api/v3/documents?q=edited', { token })).json.items.map((d: { id: number }) => d.id)).toEqual([docIds[0]]);
    expectError(await api('GET', `/api/v3/documents/${docIds[0]}/versions/9`, { token }), 404, 'not_found');
    const snap = await snapshot();
    expectError(await api('PATCH', `/api/v3/documents/${docIds[0]}`, { token, body: {} }), 400, 'validation_error');
    expect(await snapshot()).toEqual(snap);
  });

  it('continues the chain: the next document is generated from the latest, with an automatic prompt, as its child', async () => {
    const res = await api('POST', `/api/v3/documents/${docIds[1]}/continue`, { token, body: {} });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({
      kind: 'continuation',
      parent_id: docIds[1],
      run_id: runId,
      metadata: { automatic_prompt: true, provider: 'local' },
    });
    expect(res.json.content.length).toBeGreaterThan(40);
    // ...and again from the continuation, building a tree of documents.
    const next = await api('POST', `/api/v3/documents/${res.json.id}/continue`, {
      token,
      body: { prompt: 'Write a closing section about hive safety' },
    });
    expect(next.json).toMatchObject({ parent_id: res.json.id, metadata: { automatic_prompt: false } });
    const children = await api('GET', `/api/v3/documents?parent_id=${docIds[1]}`, { token });
    expect(children.json.items.map((d: { id: number }) => d.id)).toEqual([res.json.id]);
    // The run-level shortcut continues from the run's newest document.
    const viaRun = await api('POST', `/api/v3/workflows/${workflowId}/runs/${runId}/continue`, { token, body: {} });
    expect(viaRun.status).toBe(201);
    expect(viaRun.json.parent_id).toBe(next.json.id);
  });

  it("another user's documents answer 404", async () => {
    const other = await registerAndLogin(unique('snoop'));
    expectError(await api('GET', `/api/v3/documents/${docIds[0]}`, { token: other.token }), 404, 'not_found');
    expectError(await api('PATCH', `/api/v3/documents/${docIds[0]}`, { token: other.token, body: { title: 'x' } }), 404, 'not_found');
    expectError(await api('POST', `/api/v3/documents/${docIds[0]}/continue`, { token: other.token, body: {} }), 404, 'not_found');
    expect((await api('GET', '/api/v3/documents?q=beekeeping', { token: other.token })).json.items).toEqual([]);
  });
});
