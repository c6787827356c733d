import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, createWorkflow, expectError, registerAndLogin, simpleNodes, snapshot, unique, waitForRun } from '../helpers';

let alice: Awaited<ReturnType<typeof registerAndLogin>>;
let bob: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  alice = await registerAndLogin(unique('alice'));
  bob = await registerAndLogin(unique('bob'));
});

const bulk = (token: string, body: unknown) => api('POST', '/api/v3/workflows/bulk', { token, body });
const some = async (n: number, token = alice.token) =>
  Promise.all(Array.from({ length: n }, (_, i) => createWorkflow(token, { name: `bulk ${i}`, nodes: simpleNodes }).then((w) => w.id)));
const auditsFor = async (action: string, ids: number[]) =>
  (
    await env.DB.prepare(`SELECT target_id FROM audit_log WHERE action = ? AND target_id IN (${ids.map(() => '?').join(',')}) ORDER BY id`)
      .bind(action, ...ids.map(String))
      .all<{ target_id: string }>()
  ).results.map((r) => Number(r.target_id));
const tagsOf = async (id: number) => (await api('GET', `/api/v3/workflows/${id}`, { token: alice.token })).json.tags;

describe('bulk operations', () => {
  it('tags and untags many workflows, reporting per item whether it changed, audited once per changed item', async () => {
    const ids = await some(3);
    await bulk(alice.token, { action: 'tag', ids: [ids[0]], tags: ['blue'] });
    const res = await bulk(alice.token, { action: 'tag', ids, tags: ['blue', 'green'] });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toEqual({
      action: 'tag',
      results: ids.map((id) => ({ id, ok: true, changed: true })),
      succeeded: 3,
      failed: 0,
    });
    expect(await tagsOf(ids[1]!)).toEqual(['blue', 'green']);
    const again = await bulk(alice.token, { action: 'tag', ids, tags: ['green'] });
    expect(again.json.results.map((r: any) => r.changed)).toEqual([false, false, false]);
    expect(await auditsFor('workflow.tag', ids)).toEqual([ids[0], ...ids]);

    const untag = await bulk(alice.token, { action: 'untag', ids: [ids[0], ids[1]], tags: ['blue'] });
    expect(untag.json.results.map((r: any) => r.changed)).toEqual([true, true]);
    expect(await tagsOf(ids[0]!)).toEqual(['green']);
    expect(await tagsOf(ids[2]!)).toEqual(['blue', 'green']);
    expect(await auditsFor('workflow.untag', ids)).toEqual([ids[0], ids[1]]);
  });

  it('archives and unarchives; archived workflows stay readable', async () => {
    const ids = await some(2);
    const res = await bulk(alice.token, { action: 'archive', ids });
    expect(res.json.results).toEqual(ids.map((id) => ({ id, ok: true, changed: true })));
    const one = await api('GET', `/api/v3/workflows/${ids[0]}`, { token: alice.token });
    expect(one.json.archived).toBe(true);
    expect((await bulk(alice.token, { action: 'archive', ids })).json.results.map((r: any) => r.changed)).toEqual([false, false]);
    expect((await bulk(alice.token, { action: 'unarchive', ids })).json.results.map((r: any) => r.changed)).toEqual([true, true]);
    expect(await auditsFor('workflow.archive', ids)).toEqual(ids);
    expect(await auditsFor('workflow.unarchive', ids)).toEqual(ids);
  });

  it('deletes many at once, one audit row each', async () => {
    const ids = await some(3);
    const res = await bulk(alice.token, { action: 'delete', ids });
    expect(res.json).toMatchObject({ succeeded: 3, failed: 0 });
    for (const id of ids) expectError(await api('GET', `/api/v3/workflows/${id}`, { token: alice.token }), 404, 'not_found');
    expect(await auditsFor('workflow.delete', ids)).toEqual(ids);
  });

  it('runs many workflows with one input through the runs module, idempotently', async () => {
    const ids = await some(2);
    const body = { action: 'run', ids, input: { topic: 'otters' }, idempotency_key: 'bulk-otters' };
    const res = await bulk(alice.token, body);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ succeeded: 2, failed: 0 });
    const runIds = res.json.results.map((r: any) => r.run_id);
    expect(res.json.results.map((r: any) => r.changed)).toEqual([true, true]);
    for (const [i, id] of ids.entries()) {
      const run = await waitForRun(alice.token, id, runIds[i]);
      expect(run).toMatchObject({ status: 'succeeded', input: { topic: 'otters' } });
    }
    const runsBefore = await count('runs');
    const repeat = await bulk(alice.token, body);
    expect(repeat.json.results.map((r: any) => [r.run_id, r.changed])).toEqual(runIds.map((r: number) => [r, false]));
    expect(await count('runs')).toBe(runsBefore);
    expect(await auditsFor('run.start', runIds)).toEqual(runIds);
  });

  it('refuses the whole request when any item is invalid, naming each, and changes nothing', async () => {
    const ids = await some(2);
    const [bobs] = await some(1, bob.token);
    const before = await snapshot();
    const tagsBefore = await count('workflow_tags');
    const runsBefore = await count('runs');

    const res = await bulk(alice.token, { action: 'tag', ids: [ids[0], bobs, 999999, ids[1]], tags: ['x'] });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details).toEqual([
      { path: ['ids', 1], code: 'not_found', message: `workflow ${bobs} not found` },
      { path: ['ids', 2], code: 'not_found', message: 'workflow 999999 not found' },
    ]);
    const noInput = await bulk(alice.token, { action: 'run', ids, input: {} });
    expectError(noInput, 400, 'validation_error');
    expect(noInput.json.error.details.map((d: any) => d.code)).toEqual(['missing_input', 'missing_input']);
    const dup = await bulk(alice.token, { action: 'delete', ids: [ids[0], ids[0]] });
    expect(dup.json.error.details).toEqual([{ path: ['ids', 1], code: 'duplicate', message: `workflow ${ids[0]} is listed twice` }]);
    const many = Array.from({ length: 21 }, (_, i) => `t${i}`);
    const tooMany = await bulk(alice.token, { action: 'tag', ids: [ids[0]], tags: many });
    expectError(tooMany, 400, 'validation_error');
    expectError(await bulk(alice.token, { action: 'untag', ids }), 400, 'validation_error');
    expectError(await bulk(alice.token, { action: 'delete', ids: [] }), 400, 'validation_error');
    expectError(await bulk(alice.token, { action: 'delete', ids: Array.from({ length: 101 }, (_, i) => i + 1) }), 400, 'validation_error');
    expectError(await bulk(alice.token, { action: 'explode', ids }), 400, 'validation_error');
    expectError(await bulk(alice.token, { action: 'archive', ids, input: { a: 1 } }), 400, 'validation_error');

    expect(await snapshot()).toEqual(before);
    expect(await count('workflow_tags')).toBe(tagsBefore);
    expect(await count('runs')).toBe(runsBefore);
    for (const id of ids) expect((await api('GET', `/api/v3/workflows/${id}`, { token: alice.token })).json.tags).toEqual([]);
  });

  it('keeps a workflow within the tag cap across bulk tag requests', async () => {
    const [id] = await some(1);
    await bulk(alice.token, { action: 'tag', ids: [id], tags: Array.from({ length: 15 }, (_, i) => `a${i}`) });
    const before = await count('workflow_tags');
    const res = await bulk(alice.token, { action: 'tag', ids: [id], tags: Array.from({ length: 6 }, (_, i) => `b${i}`) });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0]).toMatchObject({ code: 'too_many_tags' });
    expect(await count('workflow_tags')).toBe(before);
  });

  it('needs write access', async () => {
    const ids = await some(1);
    expectError(await api('POST', '/api/v3/workflows/bulk', { body: { action: 'delete', ids } }), 401, 'unauthorized');
  });
});
