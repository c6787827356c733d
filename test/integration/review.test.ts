import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createWorkflow,
  expectError,
  llmStats,
  poll,
  type RunJson,
  registerAndLogin,
  releaseLlm,
  startRun,
  unique,
  waitForRun,
} from '../helpers';

/*
 * Editable review at approval nodes (issue 16): each decision changes what flows downstream as
 * docs/engine.md says. Model calls go to the scripted fake (test/fake-llm.ts), whose stats show
 * the prompts each node was sent: that is how a test sees what reached the next node.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('rev'))).token;
});

const settings = { provider: 'openai', fallback_providers: [] };
const decide = (wf: number, run: number, body: Record<string, unknown>) =>
  api('POST', `/api/v3/workflows/${wf}/runs/${run}/events`, { token, body: { type: 'approval', node_id: 'review', ...body } });
const nodeOf = (run: RunJson, id: string) => run.nodes.find((n) => n.id === id)!;
const waitingRound = (wf: number, run: number, round: number) =>
  waitForRun(
    token,
    wf,
    run,
    (r) => nodeOf(r, 'review').status === 'waiting' && (r as RunJson & { reviews: unknown[] }).reviews.length === round,
  );

async function runDocument(runId: number, nodeId: string) {
  const list = await api('GET', `/api/v3/documents?run_id=${runId}`, { token });
  const summary = list.json.items.find((d: { node_id: string }) => d.node_id === nodeId);
  return (await api('GET', `/api/v3/documents/${summary.id}`, { token })).json;
}

describe('review decisions at approval nodes', () => {
  it("edit: the reviewer's text becomes a new version of the document, recorded as theirs, and is what the next node reads", async () => {
    const draftTag = unique('draft');
    const nextTag = unique('next');
    const wf = await createWorkflow(token, {
      name: 'edit review',
      settings,
      nodes: [
        { id: 'draft', type: 'generate', model: `echo-${draftTag}`, prompt: 'Write a note about {{input.topic}}' },
        { id: 'review', type: 'approval', depends_on: ['draft'] },
        {
          id: 'publish',
          type: 'generate',
          depends_on: ['review', 'draft'],
          model: `echo-${nextTag}`,
          prompt: 'Polish:\n{{nodes.draft.output}}',
        },
      ],
    });
    const run = await startRun(token, wf.id, { topic: 'bees' });
    await waitingRound(wf.id, run.id, 0);

    // Refused before anything is decided: an edit needs content, content needs an edit, one decision form at a time.
    expectError(await decide(wf.id, run.id, { decision: 'edit' }), 400, 'validation_error');
    expectError(await decide(wf.id, run.id, { decision: 'approve', content: 'x' }), 400, 'validation_error');
    expectError(await decide(wf.id, run.id, { decision: 'approve', approved: true }), 400, 'validation_error');
    expectError(await decide(wf.id, run.id, { decision: 'publish' }), 400, 'validation_error');

    const edited = '# Bees, reviewed\n\nThe reviewer rewrote this: bees dance to point at flowers.';
    const ok = await decide(wf.id, run.id, { decision: 'edit', content: edited, comment: 'tightened' });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    const done = await waitForRun(token, wf.id, run.id);
    expect(done.status).toBe('succeeded');
    expect(nodeOf(done, 'draft').output!.text).toBe(edited);
    expect(nodeOf(done, 'review').output!.data).toMatchObject({
      decision: 'edit',
      approved: true,
      edited: { node_id: 'draft', version: 2 },
    });
    // The next node was sent the reviewer's text, not the model's.
    const next = await llmStats(nextTag);
    expect(next.calls).toBe(1);
    expect(next.prompts[0]).toBe(`Polish:\n${edited}`);
    expect((await llmStats(draftTag)).calls).toBe(1);

    const doc = await runDocument(run.id, 'draft');
    expect(doc.content).toBe(edited);
    expect(doc.title).toBe('Bees, reviewed');
    expect(doc.version).toBe(2);
    expect(doc.provenance.reviews).toMatchObject([{ node_id: 'review', decision: 'edit', comment: 'tightened', document_version: 2 }]);
    const versions = await api('GET', `/api/v3/documents/${doc.id}/versions`, { token });
    expect(versions.json.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const creator = await env.DB.prepare('SELECT created_by, content FROM document_versions WHERE document_id = ? AND version = 2')
      .bind(doc.id)
      .first<{ created_by: number; content: string }>();
    expect(creator?.content).toBe(edited);
    const me = (await api('GET', '/api/v3/auth/me', { token })).json;
    expect(creator?.created_by).toBe(me.id);

    // Once only, and audited once.
    expectError(await decide(wf.id, run.id, { decision: 'reject' }), 409, 'conflict');
    const audit = await env.DB.prepare("SELECT action, actor_user_id FROM audit_log WHERE action LIKE 'run.review.%' AND target_id = ?")
      .bind(String(run.id))
      .all<{ action: string; actor_user_id: number }>();
    expect(audit.results).toEqual([{ action: 'run.review.edit', actor_user_id: me.id }]);
  });

  it('request_changes without a loop runs the reviewed node again with {{review.comments}}, then asks again', async () => {
    const tag = unique('rc');
    const wf = await createWorkflow(token, {
      name: 'changes',
      settings,
      nodes: [
        { id: 'draft', type: 'generate', model: `echo-${tag}`, prompt: 'Write about {{input.topic}}.\nReviewer: {{review.comments}}' },
        { id: 'review', type: 'approval', depends_on: ['draft'] },
      ],
    });
    const run = await startRun(token, wf.id, { topic: 'honey' });
    await waitingRound(wf.id, run.id, 0);
    expectError(await decide(wf.id, run.id, { decision: 'request_changes' }), 400, 'validation_error');
    const changes = { type: 'approval', node_id: 'review', decision: 'request_changes', comment: 'Say how it is harvested' };
    const sendChanges = () =>
      api('POST', `/api/v3/workflows/${wf.id}/runs/${run.id}/events`, {
        token,
        body: changes,
        headers: { 'Idempotency-Key': 'changes-1' },
      });
    expect((await sendChanges()).status).toBe(200);

    const again = await waitingRound(wf.id, run.id, 1);
    // A client's retry of that request, with its key, is the decision already taken, not one on this new wait.
    const retried = await sendChanges();
    expect(retried.status).toBe(200);
    expect(retried.json.reviews).toHaveLength(1);
    expect(nodeOf(retried.json, 'review').status).toBe('waiting');
    const stats = await llmStats(tag);
    expect(stats.calls).toBe(2);
    expect(stats.prompts[0]).toBe('Write about honey.\nReviewer: ');
    expect(stats.prompts[1]).toBe('Write about honey.\nReviewer: Say how it is harvested');
    expect(nodeOf(again, 'draft').output!.text).toContain('Say how it is harvested');

    expect((await decide(wf.id, run.id, { approved: true })).status).toBe(200);
    const done = await waitForRun(token, wf.id, run.id);
    expect(done.status).toBe('succeeded');
    expect((done as RunJson & { reviews: { decision: string }[] }).reviews.map((r) => r.decision)).toEqual(['request_changes', 'approve']);
    const doc = await runDocument(run.id, 'draft');
    expect(doc.version).toBe(2);
    expect(doc.content).toContain('Say how it is harvested');
    expect(doc.provenance.reviews.map((r: { decision: string }) => r.decision)).toEqual(['request_changes', 'approve']);
    expect(doc.provenance.reviews[0]).not.toHaveProperty('key');
    expect((await llmStats(tag)).calls).toBe(2);
    const audit = await env.DB.prepare("SELECT action FROM audit_log WHERE action LIKE 'run.review.%' AND target_id = ? ORDER BY id")
      .bind(String(run.id))
      .all<{ action: string }>();
    expect(audit.results.map((a) => a.action)).toEqual(['run.review.request_changes', 'run.review.approve']);
  });

  it('request_changes inside a loop sends it round again, whatever its condition says; the comments reach the next iteration', async () => {
    const tag = unique('lp');
    const wf = await createWorkflow(token, {
      name: 'loop review',
      settings,
      nodes: [
        {
          id: 'improve',
          type: 'loop',
          body: ['draft', 'review', 'after'],
          max_iterations: 3,
          until: { left: '{{loop.iteration}}', operator: 'gte', right: 1 },
        },
        { id: 'draft', type: 'generate', model: `echo-${tag}`, prompt: 'Draft {{loop.iteration}} on {{input.topic}}. {{review.comments}}' },
        { id: 'review', type: 'approval', depends_on: ['draft'] },
        { id: 'after', type: 'transform', depends_on: ['review'], source: '{{nodes.draft.output}}', operations: [{ op: 'uppercase' }] },
      ],
    });
    const run = await startRun(token, wf.id, { topic: 'wax' });
    await waitingRound(wf.id, run.id, 0);
    expect((await decide(wf.id, run.id, { decision: 'request_changes', comment: 'Shorter please' })).status).toBe(200);

    const second = await waitingRound(wf.id, run.id, 1);
    expect(nodeOf(second, 'improve').iteration).toBe(2);
    const stats = await llmStats(tag);
    expect(stats.prompts).toEqual(['Draft 1 on wax. ', 'Draft 2 on wax. Shorter please']);

    expect((await decide(wf.id, run.id, { decision: 'approve' })).status).toBe(200);
    const done = await waitForRun(token, wf.id, run.id);
    expect(done.status).toBe('succeeded');
    expect(nodeOf(done, 'improve').output!.data).toMatchObject({ iterations: 2, stopped: 'condition' });
    // The iteration that was sent back skipped what came after the approval.
    const events = (await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/events`, { token })).json.items as {
      type: string;
      node_id: string;
    }[];
    expect(events.filter((e) => e.node_id === 'after' && e.type.startsWith('node.')).map((e) => e.type)).toEqual([
      'node.skipped',
      'node.started',
      'node.succeeded',
    ]);
    expect(events.some((e) => e.type === 'node.changes_requested' && e.node_id === 'review')).toBe(true);
  });

  it('an edit survives the run object being evicted: one new version, one decision, and the next node reads it', async () => {
    const nextTag = unique('evict');
    const wf = await createWorkflow(token, {
      name: 'edit then evict',
      settings,
      nodes: [
        { id: 'draft', type: 'generate', model: `echo-${unique('d')}`, prompt: 'Write about {{input.topic}}' },
        { id: 'review', type: 'approval', depends_on: ['draft'] },
        { id: 'publish', type: 'generate', depends_on: ['review', 'draft'], model: `hold-${nextTag}`, prompt: '{{nodes.draft.output}}' },
      ],
    });
    const run = await startRun(token, wf.id, { topic: 'wasps' });
    await waitingRound(wf.id, run.id, 0);
    const edited = '# Wasps\n\nEdited before the object went away.';
    expect((await decide(wf.id, run.id, { decision: 'edit', content: edited })).status).toBe(200);
    await waitForRun(token, wf.id, run.id, (r) => nodeOf(r, 'publish').status === 'running');

    const stub = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${run.id}`));
    await runInDurableObject(stub, (_instance, state) => {
      try {
        state.abort('test: simulated eviction');
      } catch {
        // abort() throws inside the object by design
      }
    }).catch(() => undefined);
    const fresh = env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${run.id}`));
    const alarm = runDurableObjectAlarm(fresh);
    await poll(
      async () => (await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/events?after=0&limit=200`, { token })).json.items,
      (items: { type: string; node_id: string }[]) => items.some((e) => e.type === 'node.interrupted' && e.node_id === 'publish'),
      { what: "the run's events" },
    );
    await releaseLlm(nextTag);
    await alarm;
    const done = await waitForRun(token, wf.id, run.id);
    expect(done.status).toBe('succeeded');
    expect((done as RunJson & { reviews: unknown[] }).reviews).toHaveLength(1);
    // The lost call and the one after the restart were both sent the reviewer's text.
    const next = await llmStats(nextTag);
    expect(next.calls).toBeGreaterThanOrEqual(1);
    expect(next.prompts.every((p) => p === edited)).toBe(true);
    const doc = await runDocument(run.id, 'draft');
    const versions = await env.DB.prepare('SELECT version FROM document_versions WHERE document_id = ? ORDER BY version')
      .bind(doc.id)
      .all<{ version: number }>();
    expect(versions.results.map((v) => v.version)).toEqual([1, 2]);
    expect(doc).toMatchObject({ version: 2, content: edited });
  });

  it("a fork asked again at the approval: an edit makes the reused draft this run's own document, leaving the origin's alone", async () => {
    const wf = await createWorkflow(token, {
      name: 'fork review',
      settings,
      nodes: [
        { id: 'draft', type: 'generate', model: `echo-${unique('fd')}`, prompt: 'Write about {{input.topic}}' },
        { id: 'review', type: 'approval', depends_on: ['draft'] },
      ],
    });
    const origin = await startRun(token, wf.id, { topic: 'moths' });
    await waitingRound(wf.id, origin.id, 0);
    expect((await decide(wf.id, origin.id, { decision: 'approve' })).status).toBe(200);
    const done = await waitForRun(token, wf.id, origin.id);
    const originDoc = await runDocument(origin.id, 'draft');

    const forked = await api('POST', `/api/v3/workflows/${wf.id}/runs/${origin.id}/fork`, { token, body: { from_node: 'review' } });
    expect(forked.status, JSON.stringify(forked.json)).toBe(201);
    await waitingRound(wf.id, forked.json.id, 0);
    // Until the edit, the reused draft is the origin's document: the fork has none of its own.
    expect((await api('GET', `/api/v3/documents?run_id=${forked.json.id}`, { token })).json.items).toEqual([]);
    const edited = '# Moths\n\nThe fork says it differently.';
    expect((await decide(wf.id, forked.json.id, { decision: 'edit', content: edited })).status).toBe(200);
    const fork = await waitForRun(token, wf.id, forked.json.id);
    expect(fork.status).toBe('succeeded');
    const forkDoc = await runDocument(forked.json.id, 'draft');
    expect(forkDoc.id).not.toBe(originDoc.id);
    expect(nodeOf(fork, 'draft').output!.document_id).toBe(forkDoc.id);
    expect(forkDoc).toMatchObject({ version: 1, content: edited });
    expect(forkDoc.provenance.reviews).toMatchObject([{ decision: 'edit', document_version: 1 }]);
    const again = (await api('GET', `/api/v3/documents/${originDoc.id}`, { token })).json;
    expect(again).toMatchObject({ version: 1, content: nodeOf(done, 'draft').output!.text });
    expect(again.provenance.reviews).toMatchObject([{ decision: 'approve' }]);
  });

  it('an approval that reviews no document can only be approved or rejected', async () => {
    const wf = await createWorkflow(token, { name: 'bare', nodes: [{ id: 'review', type: 'approval' }] });
    const run = await startRun(token, wf.id);
    await waitingRound(wf.id, run.id, 0);
    expectError(await decide(wf.id, run.id, { decision: 'edit', content: 'text' }), 409, 'conflict');
    expectError(await decide(wf.id, run.id, { decision: 'request_changes', comment: 'more' }), 409, 'conflict');
    expect((await decide(wf.id, run.id, { decision: 'approve' })).status).toBe(200);
    expect((await waitForRun(token, wf.id, run.id)).status).toBe('succeeded');
  });
});
