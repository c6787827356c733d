import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, unique, waitForRun, type RunJson } from '../helpers';

/*
 * Requests whose cache bookkeeping is counted go through the worker's fetch handler in this
 * isolate (`direct`), which waits for the request's waitUntil work: the counts and KV writes made
 * after the response are then complete when the next line runs. Counts are read through the
 * admin API and compared as differences, so other tests in this file do not disturb them.
 */
let admin: string;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('cacheadmin'))).token;
});

type Tally = { hits: number; misses: number };
async function stats(ns: string): Promise<Tally & { tiers: Record<string, Tally> }> {
  const res = await api('GET', '/api/v3/cache/stats', { token: admin });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  const s = res.json.namespaces.find((x: { namespace: string }) => x.namespace === ns);
  return {
    hits: s.hits,
    misses: s.misses,
    tiers: Object.fromEntries(s.tiers.map((t: Tally & { tier: string }) => [t.tier, { hits: t.hits, misses: t.misses }])),
  };
}
const delta = (a: Tally, b: Tally) => ({ hits: b.hits - a.hits, misses: b.misses - a.misses });

const transform = (id: string, text: string) => [{ id, type: 'transform', source: text, operations: [{ op: 'trim' }] }];

async function start(token: string, workflowId: number, headers: Record<string, string> = {}) {
  const res = await api('POST', `/api/v3/workflows/${workflowId}/runs`, { token, body: { input: {} }, headers, direct: true });
  expect([200, 201], JSON.stringify(res.json)).toContain(res.status);
  return res.json as RunJson;
}

describe('cache admin endpoints', () => {
  it('answer 401 without credentials and 403 to non-admins and to keys without cache:admin', async () => {
    const editor = await registerAndLogin(unique('cacheed'));
    expect(editor.user.role).toBe('editor');
    const editorKey = (await api('POST', '/api/v3/auth/api-keys', { token: editor.token, body: { name: 'ed', scopes: ['cache:admin'] } }))
      .json.key;
    const adminReadKey = (await api('POST', '/api/v3/auth/api-keys', { token: admin, body: { name: 'ro', scopes: ['workflows:read'] } }))
      .json.key;
    const adminCacheKey = (await api('POST', '/api/v3/auth/api-keys', { token: admin, body: { name: 'cache', scopes: ['cache:admin'] } }))
      .json.key;
    for (const base of ['/api/v3/cache', '/api/v3/advanced/cache']) {
      expectError(await api('GET', `${base}/stats`), 401, 'unauthorized');
      expectError(await api('POST', `${base}/clear`, { body: { scope: 'all' } }), 401, 'unauthorized');
      expectError(await api('GET', `${base}/stats`, { token: editor.token }), 403, 'forbidden');
      expectError(await api('POST', `${base}/clear`, { token: editor.token, body: { scope: 'all' } }), 403, 'forbidden');
      expectError(await api('GET', `${base}/stats`, { apiKey: editorKey }), 403, 'forbidden');
      expectError(await api('GET', `${base}/stats`, { apiKey: adminReadKey }), 403, 'forbidden');
      expect((await api('GET', `${base}/stats`, { token: admin })).status).toBe(200);
      expect((await api('GET', `${base}/stats`, { apiKey: adminCacheKey })).status).toBe(200);
    }
    const audited = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'cache.clear'").first<{ n: number }>();
    expect(audited!.n).toBe(0);
  });

  it('refuse bad clear requests with 400 and clear nothing', async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'cache.clear'").first<{ n: number }>();
    for (const body of [
      { scope: 'everything' },
      { scope: 'all', extra: 1 },
      { scope: 'namespace', namespace: 'sessions' },
      { scope: 'prefix', namespace: 'ai' },
      { scope: 'tag', tag: 'Bad Tag|x' },
      { scope: 'key', namespace: 'ai', key: 'x'.repeat(301) },
    ]) {
      expectError(await api('POST', '/api/v3/cache/clear', { token: admin, body }), 400, 'validation_error');
    }
    const after = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'cache.clear'").first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });
});

describe('API keys are never served stale', () => {
  it('a revoked key is refused on its very next use, in the isolate that just accepted it', async () => {
    const { token } = await registerAndLogin(unique('revoke'));
    const created = (await api('POST', '/api/v3/auth/api-keys', { token, body: { name: 'k', scopes: ['workflows:read'] } })).json;
    const before = await stats('apikey');
    for (let i = 0; i < 3; i++) expect((await api('GET', '/api/v3/workflows', { apiKey: created.key, direct: true })).status).toBe(200);
    // A key that resolves is never cached, so its uses are not cache lookups at all.
    const used = await stats('apikey');
    expect(delta(before, used)).toEqual({ hits: 0, misses: 0 });
    expect((await api('DELETE', `/api/v3/auth/api-keys/${created.id}`, { token, direct: true })).status).toBe(204);
    expectError(await api('GET', '/api/v3/workflows', { apiKey: created.key, direct: true }), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/workflows', { apiKey: created.key, direct: true }), 401, 'unauthorized');
    // The first refusal read D1 and kept the (final) negative answer; the second was served by it.
    const refused = await stats('apikey');
    expect(delta(used, refused)).toEqual({ hits: 1, misses: 1 });
    expect(delta(used.tiers.memory!, refused.tiers.memory!)).toEqual({ hits: 1, misses: 1 });
    expectError(await api('GET', '/api/v3/workflows', { apiKey: created.key }), 401, 'unauthorized');
  });

  it("a demoted owner's key loses admin access at once", async () => {
    const owner = await registerAndLogin(unique('demote'));
    const promoted = await api('PATCH', `/api/v3/auth/users/${owner.user.id}`, { token: admin, body: { role: 'admin' } });
    expect(promoted.status, JSON.stringify(promoted.json)).toBe(200);
    const key = (await api('POST', '/api/v3/auth/api-keys', { token: owner.token, body: { name: 'k', scopes: ['cache:admin'] } })).json.key;
    expect((await api('GET', '/api/v3/cache/stats', { apiKey: key, direct: true })).status).toBe(200);
    expect((await api('PATCH', `/api/v3/auth/users/${owner.user.id}`, { token: admin, body: { role: 'viewer' } })).status).toBe(200);
    expectError(await api('GET', '/api/v3/cache/stats', { apiKey: key, direct: true }), 403, 'forbidden');
  });

  it('an unknown key is looked up once and then refused from memory, counted exactly', async () => {
    const bogus = `dwc_${'A'.repeat(39)}${unique('x').slice(-4)}`;
    const before = await stats('apikey');
    for (let i = 0; i < 3; i++) expectError(await api('GET', '/api/v3/workflows', { apiKey: bogus, direct: true }), 401, 'unauthorized');
    const after = await stats('apikey');
    expect(delta(before, after)).toEqual({ hits: 2, misses: 1 });
    expect(delta(before.tiers.memory!, after.tiers.memory!)).toEqual({ hits: 2, misses: 1 });
  });
});

describe('workflow definitions are never served stale', () => {
  it('the run after an update uses the new definition; a replayed Idempotency-Key keeps its pinned version', async () => {
    const { token } = await registerAndLogin(unique('wfdef'));
    const wf = await createWorkflow(token, { name: 'v', nodes: transform('one', 'version one') });
    const before = await stats('workflow');
    const first = await start(token, wf.id, { 'Idempotency-Key': 'first' });
    const second = await start(token, wf.id);
    expect([first.workflow_version, second.workflow_version]).toEqual([1, 1]);
    const mid = await stats('workflow');
    expect(delta(before, mid)).toEqual({ hits: 1, misses: 1 });

    expect(
      (await api('PUT', `/api/v3/workflows/${wf.id}`, { token, body: { name: 'v', nodes: transform('two', 'version two') } })).status,
    ).toBe(200);
    const third = await start(token, wf.id);
    expect(third.workflow_version).toBe(2);
    expect(third.nodes.map((n) => n.id)).toEqual(['two']);
    const done = await waitForRun(token, wf.id, third.id);
    expect(done.output).toMatchObject({ two: { text: 'version two' } });

    const replay = await start(token, wf.id, { 'Idempotency-Key': 'first' });
    expect(replay.id).toBe(first.id);
    expect(replay.workflow_version).toBe(1);
    expect(replay.nodes.map((n) => n.id)).toEqual(['one']);
    // v2: a miss for the third run, a hit when the replay reads the current version; then the
    // replay's pinned v1: a hit.
    expect(delta(mid, await stats('workflow'))).toEqual({ hits: 2, misses: 1 });

    expect((await api('DELETE', `/api/v3/workflows/${wf.id}`, { token })).status).toBe(204);
    expectError(await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: {} }, direct: true }), 404, 'not_found');
  });
});

describe('clearing', () => {
  it('by key, prefix and tag through the API, each audited', async () => {
    const { token } = await registerAndLogin(unique('clear'));
    const wf = await createWorkflow(token, { name: 'c', nodes: transform('a', 'a') });
    await start(token, wf.id);
    await api('PATCH', `/api/v3/workflows/${wf.id}`, { token, body: { nodes: transform('b', 'b') } });
    await start(token, wf.id);
    const clear = (body: object) => api('POST', '/api/v3/advanced/cache/clear', { token: admin, body, direct: true });

    const byKey = await clear({ scope: 'key', namespace: 'workflow', key: `${wf.id}:1` });
    expect(byKey.status, JSON.stringify(byKey.json)).toBe(200);
    expect(byKey.json.cleared).toEqual({ memory: 1, kv: 1, edge: 0 });
    expect((await clear({ scope: 'prefix', namespace: 'workflow', prefix: `${wf.id}:` })).json.cleared).toEqual({
      memory: 1,
      kv: 1,
      edge: 0,
    });
    expect((await env.CACHE.list({ prefix: `c:workflow:${wf.id}:` })).keys).toEqual([]);

    await start(token, wf.id);
    expect((await clear({ scope: 'tag', tag: `workflow:${wf.id}` })).json.cleared).toEqual({ memory: 1, kv: 1, edge: null });
    expect((await env.CACHE.list({ prefix: `t:workflow:${wf.id}|` })).keys).toEqual([]);

    const rows = await env.DB.prepare(
      "SELECT target_id, details, actor_user_id FROM audit_log WHERE action = 'cache.clear' ORDER BY id DESC LIMIT 3",
    ).all<{ target_id: string; details: string }>();
    expect(rows.results.map((r) => r.target_id)).toEqual(['tag', 'prefix', 'key']);
    expect(JSON.parse(rows.results[0]!.details)).toEqual({
      scope: 'tag',
      tag: `workflow:${wf.id}`,
      cleared: { memory: 1, kv: 1, edge: null },
    });
  });

  it('AI results: a repeated deterministic call is a hit until its provider prefix is cleared', async () => {
    const prompt = `Summarise the cache tests ${unique('p')}`;
    const gen = () => api('POST', '/api/v3/ai/generate', { token: admin, body: { prompt, provider: 'local' }, direct: true });
    const before = await stats('ai');
    expect((await gen()).json.cached).toBe(false);
    const hit = await gen();
    expect(hit.json.cached).toBe(true);
    expect(
      (
        await api('POST', '/api/v3/cache/clear', {
          token: admin,
          body: { scope: 'prefix', namespace: 'ai', prefix: 'local:' },
          direct: true,
        })
      ).json.cleared.kv,
    ).toBeGreaterThanOrEqual(1);
    const again = await gen();
    expect(again.json.cached).toBe(false);
    expect(again.json.text).toBe(hit.json.text);
    const after = await stats('ai');
    expect(delta(before, after)).toEqual({ hits: 1, misses: 2 });
    expect(delta(before.tiers.kv!, after.tiers.kv!)).toEqual({ hits: 0, misses: 2 });
  });

  it('public GETs: the OpenAPI document is served from the cache after its first build', async () => {
    const first = await api('GET', '/openapi.json', { direct: true });
    const before = await stats('public');
    const second = await api('GET', '/openapi.json', { direct: true });
    expect(second.json).toEqual(first.json);
    expect(second.json.paths['/api/v3/cache/stats']).toBeDefined();
    expect(delta(before, await stats('public'))).toEqual({ hits: 1, misses: 0 });
  });
});
