import { env, SELF } from 'cloudflare:test';
import createClient from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import type { paths } from '../../sdk/openapi';
import { BASE, poll, STRONG_PASSWORD, unique } from '../helpers';

/*
 * The README's worked example through a client nobody wrote by hand: openapi-typescript's types
 * (sdk/openapi.d.ts, generated from the document GET /openapi.json serves) with openapi-fetch. Every
 * path, parameter, body and answer below is checked against that document by tsc, and nothing is
 * cast: each answer is narrowed through openapi-fetch's `data`/`error` and the document's own unions.
 */
const viaWorker = (req: Request) => SELF.fetch(req);
const TERMINAL = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);

describe('a client generated from /openapi.json (openapi-typescript + openapi-fetch)', () => {
  it('walks the main journey: first admin, register, sign in, create a workflow, run it, follow it, read its documents', async () => {
    const anonymous = createClient<paths>({ baseUrl: BASE, fetch: viaWorker });

    // The first administrator, out of band with the deployment's bootstrap secret (README).
    const admin = unique('oaadmin');
    const boot = await anonymous.POST('/api/v3/auth/bootstrap', {
      params: { header: { 'x-bootstrap-secret': env.BOOTSTRAP_SECRET } },
      body: { username: admin, email: `${admin}@example.com`, password: STRONG_PASSWORD },
    });
    expect(boot.error).toBeUndefined();
    expect(boot.response.status).toBe(201);
    expect(boot.data?.role).toBe('admin');

    // Anyone else registers (open registration in development, as an editor).
    const username = unique('oauser');
    const registered = await anonymous.POST('/api/v3/auth/register', {
      body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
    });
    if (!registered.data) throw new Error(`register failed: ${JSON.stringify(registered.error)}`);
    expect(registered.response.status).toBe(201);
    // 201 is the account, 202 a pending email verification: the document's union narrows on `id`.
    if (!('id' in registered.data)) throw new Error('registration is waiting for an email verification');
    expect(registered.data).toMatchObject({ username, role: 'editor', email_verified: expect.any(Boolean) });

    const login = await anonymous.POST('/api/v3/auth/login', { body: { username, password: STRONG_PASSWORD } });
    if (!login.data) throw new Error(`login failed: ${JSON.stringify(login.error)}`);
    // The answer is tokens, or an MFA challenge for an account with a second factor.
    if (!('access_token' in login.data)) throw new Error('an MFA challenge for an account without a second factor');
    expect(login.data.token_type).toBe('Bearer');
    expect(login.data.user.id).toBe(registered.data.id);

    const dwc = createClient<paths>({
      baseUrl: BASE,
      fetch: viaWorker,
      headers: { authorization: `Bearer ${login.data.access_token}` },
    });

    // The README's three-step chain: outline → draft → title.
    const created = await dwc.POST('/api/v3/workflows', {
      body: {
        name: 'Blog post',
        nodes: [
          { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
          {
            id: 'draft',
            type: 'generate',
            depends_on: ['outline'],
            prompt: 'Write an article from this outline:\n{{nodes.outline.output}}',
          },
          { id: 'headline', type: 'title', depends_on: ['draft'], style: 'blog' },
        ],
      },
    });
    if (!created.data) throw new Error(`create failed: ${JSON.stringify(created.error)}`);
    expect(created.response.status).toBe(201);
    expect(created.data).toMatchObject({ name: 'Blog post', version: 1, owner_id: registered.data.id });
    const workflowId = created.data.id;

    // Start a run; the same Idempotency-Key again answers the same run (200) instead of a second one.
    const key = unique('launch');
    const start = () =>
      dwc.POST('/api/v3/workflows/{id}/runs', {
        params: { path: { id: workflowId }, header: { 'idempotency-key': key } },
        body: { input: { topic: 'solar power for small farms' } },
      });
    const started = await start();
    if (!started.data) throw new Error(`start failed: ${JSON.stringify(started.error)}`);
    expect(started.response.status).toBe(201);
    const runId = started.data.id;
    expect(started.data).toMatchObject({ workflow_id: workflowId, workflow_version: 1, input: { topic: 'solar power for small farms' } });
    const again = await start();
    expect(again.response.status).toBe(200);
    expect(again.data?.id).toBe(runId);

    // Follow it through its event log, a page after the last seen sequence number at a time, until
    // the run's own terminal event; alarms move the run along in the background.
    const events: { seq: number; type: string; node_id: string | null }[] = [];
    await poll(
      async () => {
        const page = await dwc.GET('/api/v3/workflows/{id}/runs/{runId}/events', {
          params: { path: { id: workflowId, runId }, query: { after: events.at(-1)?.seq ?? 0 } },
        });
        if (!page.data) throw new Error(`events failed: ${JSON.stringify(page.error)}`);
        events.push(...page.data.items);
        return events;
      },
      (seen) => seen.some((e) => TERMINAL.has(e.type)),
      { what: `run ${runId}'s events` },
    );
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run.created');
    expect(types.at(-1)).toBe('run.succeeded');
    expect(events.filter((e) => e.type === 'node.succeeded').map((e) => e.node_id)).toEqual(['outline', 'draft', 'headline']);
    const seqs = events.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    const run = await dwc.GET('/api/v3/workflows/{id}/runs/{runId}', { params: { path: { id: workflowId, runId } } });
    if (!run.data) throw new Error(`run failed: ${JSON.stringify(run.error)}`);
    expect(run.data.status).toBe('succeeded');
    expect(run.data.finished_at).not.toBeNull();
    expect(run.data.last_event_seq).toBe(seqs.at(-1));
    const documentOf = new Map(run.data.nodes.map((n) => [n.id, n.output?.document_id ?? null]));
    expect(run.data.nodes.map((n) => n.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    // The three documents, linked draft → outline and title → draft through parent_id.
    const listed = await dwc.GET('/api/v3/documents', { params: { query: { run_id: runId } } });
    if (!listed.data) throw new Error(`documents failed: ${JSON.stringify(listed.error)}`);
    const byNode = new Map(listed.data.items.map((d) => [d.node_id, d]));
    expect([...byNode.keys()].sort()).toEqual(['draft', 'headline', 'outline']);
    for (const [nodeId, doc] of byNode) {
      expect(doc).toMatchObject({ run_id: runId, workflow_id: workflowId, kind: 'node' });
      expect(documentOf.get(nodeId ?? '')).toBe(doc.id);
    }
    expect(byNode.get('draft')?.parent_id).toBe(byNode.get('outline')?.id);
    expect(byNode.get('headline')?.parent_id).toBe(byNode.get('draft')?.id);

    const draftId = byNode.get('draft')?.id;
    if (draftId === undefined) throw new Error('no draft document');
    const draft = await dwc.GET('/api/v3/documents/{id}', { params: { path: { id: draftId } } });
    if (!draft.data) throw new Error(`document failed: ${JSON.stringify(draft.error)}`);
    expect(draft.data).toMatchObject({ id: draftId, run_id: runId, node_id: 'draft', parent_id: byNode.get('outline')?.id });
    expect(draft.data.content.trim().length).toBeGreaterThan(0);
    expect(draft.data.content).toBe(run.data.nodes.find((n) => n.id === 'draft')?.output?.text);

    // A failure comes back as the document's Error schema in `error`, not as `data`.
    const missing = await dwc.GET('/api/v3/documents/{id}', { params: { path: { id: draftId + 1_000_000 } } });
    expect(missing.data).toBeUndefined();
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('not_found');
  });
});
