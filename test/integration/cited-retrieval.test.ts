import { beforeAll, describe, expect, it } from 'vitest';
import { HANDBOOK, QUERIES } from '../fixtures/handbook';
import { api, createWorkflow, expectError, llmStats, type RunJson, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * The retrieve node and cited generation (issue 16): passages come from the run owner's knowledge
 * base through the knowledge module's retrieve(), a generate node with `cite` is given them as
 * numbered sources, and its document records which paragraph cites which chunk. The model is the
 * scripted fake (test/fake-llm.ts), which answers with the prompt it was sent, sources included,
 * so its markers are the ones the prompt numbered.
 */

let token: string;
let other: { token: string };
let baseId: number;

beforeAll(async () => {
  token = (await registerAndLogin(unique('cite'))).token;
  other = await registerAndLogin(unique('citeother'));
  baseId = (await api('POST', '/api/v3/knowledge-bases', { token, body: { name: 'Handbook' } })).json.id;
  const added = await api('POST', `/api/v3/knowledge-bases/${baseId}/sources`, { token, body: { title: 'Handbook', content: HANDBOOK } });
  expect(added.status, JSON.stringify(added.json)).toBe(201);
  await api('POST', `/api/v3/knowledge-bases/${baseId}/sources`, {
    token,
    body: {
      title: 'Newsletter',
      content: 'The team moved to a new office. The summer party will be on a Friday in July; bring your family.',
    },
  });
});

type Passage = { chunk_id: number; source_id: number; text: string; score: number; title: string | null };
const nodeOf = (run: RunJson, id: string) => run.nodes.find((n) => n.id === id)!;
const passagesOf = (run: RunJson, id: string) => (nodeOf(run, id).output!.data as { passages: Passage[] }).passages;

describe('retrieve nodes and cited generation', () => {
  it('retrieve nodes find the right passage: recall@3 over the 12 known questions, through the engine', async () => {
    const wf = await createWorkflow(token, {
      name: 'recall',
      nodes: QUERIES.map((_, i) => ({ id: `q${i}`, type: 'retrieve', knowledge_base_id: baseId, query: `{{input.q${i}}}`, top_k: 3 })),
    });
    const input = Object.fromEntries(QUERIES.map((x, i) => [`q${i}`, x.q]));
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, input)).id, undefined, 30_000);
    expect(run.status, run.error ?? '').toBe('succeeded');
    let first = 0;
    let inTop3 = 0;
    QUERIES.forEach(({ answer }, i) => {
      const passages = passagesOf(run, `q${i}`);
      expect(passages.length).toBeLessThanOrEqual(3);
      const rank = passages.findIndex((p) => p.text.includes(answer));
      if (rank === 0) first++;
      if (rank >= 0) inTop3++;
    });
    const recallAt3 = inTop3 / QUERIES.length;
    console.log(`retrieve node (hybrid, local embedding): hit@1 ${first}/${QUERIES.length}, recall@3 ${recallAt3.toFixed(2)}`);
    expect(first).toBe(QUERIES.length);
    expect(recallAt3).toBe(1);
    // A retrieve node writes no document: its passages are data for the nodes after it.
    expect(nodeOf(run, 'q0').output!.document_id).toBeNull();
  });

  it('a generate node cites the passages it was given; its document stores citations that point at existing chunks', async () => {
    const tag = unique('cited');
    const { q, answer } = QUERIES[4]!;
    const wf = await createWorkflow(token, {
      name: 'cited answer',
      settings: { provider: 'openai', fallback_providers: [] },
      nodes: [
        { id: 'find', type: 'retrieve', knowledge_base_id: baseId, query: '{{input.question}}', top_k: 2, min_score: -1 },
        { id: 'reply', type: 'generate', depends_on: ['find'], cite: ['find'], model: `echo-${tag}`, prompt: 'Answer: {{input.question}}' },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { question: q })).id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    const passages = passagesOf(run, 'find');
    expect(passages[0]!.text).toContain(answer);

    // The model was sent the passages, numbered, after the prompt.
    const [prompt] = (await llmStats(tag)).prompts;
    expect(prompt!.startsWith(`Answer: ${q}\n\nSources.`)).toBe(true);
    expect(prompt).toContain(`[1] (Handbook) ${passages[0]!.text.trim()}`);

    const reply = nodeOf(run, 'reply').output! as RunJson['nodes'][number]['output'] & {
      citations: { paragraph: number; marker: number; chunk_id: number; source_id: number }[];
    };
    expect(reply.citations.length).toBeGreaterThan(0);
    const paragraphs = reply.text.split(/\n\s*\n/).filter((p) => p.trim());
    for (const c of reply.citations) {
      // Each citation is a marker its paragraph carries, naming the passage given under that number.
      expect(paragraphs[c.paragraph]).toContain(`[${c.marker}]`);
      expect(c.chunk_id).toBe(passages[c.marker - 1]!.chunk_id);
      const chunk = await api('GET', `/api/v3/knowledge-bases/${baseId}/chunks/${c.chunk_id}`, { token });
      expect(chunk.status).toBe(200);
      expect(chunk.json.source_id).toBe(c.source_id);
    }

    const docId = reply.document_id!;
    const doc = (await api('GET', `/api/v3/documents/${docId}`, { token })).json;
    expect(doc.provenance).toMatchObject({ provider: 'openai', language_model: true, citations: reply.citations, reviews: [] });
    const cited = await api('GET', `/api/v3/documents/${docId}/citations`, { token });
    expect(cited.status).toBe(200);
    expect(cited.json.items).toHaveLength(reply.citations.length);
    for (const item of cited.json.items) expect(item.chunk.text).toBe(passages[item.marker - 1]!.text);
    expectError(await api('GET', `/api/v3/documents/${docId}/citations`, { token: other.token }), 404, 'not_found');
  });

  it("the local provider's document is labelled as no language model's, whatever it cites", async () => {
    const wf = await createWorkflow(token, {
      name: 'local cited',
      settings: { provider: 'local' },
      nodes: [
        { id: 'find', type: 'retrieve', knowledge_base_id: baseId, query: '{{input.question}}' },
        { id: 'reply', type: 'generate', depends_on: ['find'], cite: ['find'], prompt: 'Write a short answer: {{input.question}}' },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { question: QUERIES[0]!.q })).id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    const doc = (await api('GET', `/api/v3/documents/${nodeOf(run, 'reply').output!.document_id}`, { token })).json;
    expect(doc.provenance).toMatchObject({ provider: 'local', language_model: false });
  });

  it('a map item cites the retrieve nodes upstream of its map', async () => {
    const wf = await createWorkflow(token, {
      name: 'map cites',
      settings: { provider: 'openai', fallback_providers: [] },
      nodes: [
        { id: 'find', type: 'retrieve', knowledge_base_id: baseId, query: 'backups', top_k: 1, min_score: -1 },
        {
          id: 'each',
          type: 'map',
          depends_on: ['find'],
          items: '{{input.list}}',
          node: { type: 'generate', model: `echo-${unique('map')}`, prompt: 'On {{item}}', cite: ['find'] },
        },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { list: ['a', 'b'] })).id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    const items = (nodeOf(run, 'each').output!.data as { items: { text: string }[] }).items;
    const chunk = passagesOf(run, 'find')[0]!;
    for (const item of items) expect(item.text).toContain(`[1] (Handbook) ${chunk.text.trim().slice(0, 40)}`);
  });

  it('passages to cite count against the prompt budget: too many fail the node, naming why', async () => {
    const wf = await createWorkflow(token, {
      name: 'over budget',
      settings: { provider: 'local', context_budget_tokens: 256 },
      nodes: [
        { id: 'find', type: 'retrieve', knowledge_base_id: baseId, query: 'backups passwords receipts leave', top_k: 6, min_score: -1 },
        { id: 'reply', type: 'generate', depends_on: ['find'], cite: ['find'], prompt: 'Answer' },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id)).id);
    expect(run.status).toBe('failed');
    expect(nodeOf(run, 'reply')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(run.error).toMatch(/^the \d+ passages to cite need ~\d+ tokens; the prompt budget is 256$/);
  });

  it("a retrieve node cannot read another user's base: the node fails, not retried, and writes nothing", async () => {
    const wf = await createWorkflow(other.token, {
      name: 'not mine',
      nodes: [
        { id: 'find', type: 'retrieve', knowledge_base_id: baseId, query: 'backups' },
        { id: 'reply', type: 'generate', depends_on: ['find'], cite: ['find'], prompt: 'Answer' },
      ],
    });
    const run = await waitForRun(other.token, wf.id, (await startRun(other.token, wf.id)).id);
    expect(run.status).toBe('failed');
    expect(nodeOf(run, 'find')).toMatchObject({ status: 'failed', attempts: 1, output: null });
    expect(run.error).toContain(`knowledge base ${baseId}: Knowledge base not found`);
    const docs = await api('GET', `/api/v3/documents?run_id=${run.id}`, { token: other.token });
    expect(docs.json.items).toEqual([]);
  });

  it('refuses definitions that cannot run: cite names a retrieve node upstream; bounded top_k and min_score', async () => {
    const bad = async (nodes: unknown[]) =>
      expectError(await api('POST', '/api/v3/workflows', { token, body: { name: 'bad', nodes } }), 400, 'validation_error');
    const find = { id: 'find', type: 'retrieve', knowledge_base_id: baseId, query: 'x' };
    await bad([find, { id: 'w', type: 'generate', prompt: 'p', cite: ['find'] }]);
    await bad([
      { id: 'a', type: 'generate', prompt: 'p' },
      { id: 'w', type: 'generate', depends_on: ['a'], prompt: 'p', cite: ['a'] },
    ]);
    await bad([find, { id: 'm', type: 'map', items: '{{input.list}}', node: { type: 'generate', prompt: 'p', cite: ['find'] } }]);
    await bad([{ ...find, top_k: 0 }]);
    await bad([{ ...find, top_k: 21 }]);
    await bad([{ ...find, min_score: 2 }]);
    await bad([{ ...find, query: '' }]);
    await bad([{ ...find, knowledge_base_id: 'one' }]);
  });
});
