import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, poll, registerAndLogin, unique } from '../helpers';

/*
 * Error tracking through the worker: a fault (an error no code path expected, answered with a
 * generic 500) is recorded once per occurrence in one group per fingerprint, visible to
 * administrators at /api/v3/admin/errors. The fault is real: a row corrupted behind the API's back
 * makes reading it throw inside the handler.
 */

let admin: string;
let user: string;
beforeAll(async () => {
  // The first account of this file's database is its administrator (test/helpers.ts).
  admin = (await registerAndLogin(unique('erradmin'))).token;
  user = (await registerAndLogin(unique('erruser'))).token;
});

type Group = {
  id: number;
  fingerprint: string;
  name: string;
  message: string;
  route: string;
  count: number;
  first_seen: string;
  last_seen: string;
  sample: { request_id: string; message: string; stack: string | null };
};

async function corruptWorkflow(token: string): Promise<number> {
  const wf = await createWorkflow(token, {
    name: unique('broken'),
    nodes: [{ id: 'only', type: 'title', provider: 'local', source: 'x' }],
  });
  await env.DB.prepare("UPDATE workflows SET nodes = '{not json' WHERE id = ?").bind(wf.id).run();
  return wf.id;
}

const groups = async () => (await api('GET', '/api/v3/admin/errors?limit=100', { token: admin })).json.items as Group[];

describe('error tracking', () => {
  it('groups repeated faults by fingerprint with a count, first and last seen and a sample request id', async () => {
    const before = await groups();
    const ids = [await corruptWorkflow(user), await corruptWorkflow(user)];
    const requestIds: string[] = [];
    for (const id of [ids[0], ids[1], ids[0]]) {
      const res = await api('GET', `/api/v3/workflows/${id}`, { token: user });
      expect(res.status).toBe(500);
      // The client sees the generic answer, never the error or its stack.
      expect(res.json.error).toEqual({ code: 'internal_error', message: 'Internal server error', requestId: expect.any(String) });
      expect(JSON.stringify(res.json)).not.toMatch(/JSON|stack|at /);
      requestIds.push(res.json.error.requestId);
    }

    const fresh = await poll(
      async () => (await groups()).filter((g) => !before.some((b) => b.fingerprint === g.fingerprint)),
      (gs) => gs.reduce((n, g) => n + g.count, 0) >= 3,
      { what: 'error groups' },
    );
    // Three occurrences on two different rows: one group (the row id is not part of the fingerprint).
    expect(fresh).toHaveLength(1);
    const g = fresh[0]!;
    expect(g.count).toBe(3);
    expect(g.route).toBe('GET /api/v3/workflows/:id');
    expect(g.name).toMatch(/Error$/);
    expect(Date.parse(g.first_seen)).toBeLessThanOrEqual(Date.parse(g.last_seen));
    expect(requestIds).toContain(g.sample.request_id);
    expect(g.sample.stack).toBeTruthy();

    const one = await api('GET', `/api/v3/admin/errors/${g.id}`, { token: admin });
    expect(one.status).toBe(200);
    expect(one.json).toEqual(g);
  });

  it('counts a different fault in a group of its own', async () => {
    const id = await corruptWorkflow(user);
    const known = await groups();
    const res = await api('GET', `/api/v3/workflows/${id}/versions`, { token: user });
    expect(res.status).toBe(500);
    const after = await poll(groups, (gs) => gs.length > known.length, { what: 'a new group' });
    const added = after.filter((g) => !known.some((k) => k.fingerprint === g.fingerprint));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ count: 1, route: 'GET /api/v3/workflows/:id/versions' });
  });

  it('refuses anyone but an administrator, and bad parameters, with the JSON error shape', async () => {
    const refused = await api('GET', '/api/v3/admin/errors', { token: user });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden');
    expect((await api('GET', '/api/v3/admin/errors')).status).toBe(401);
    const bad = await api('GET', '/api/v3/admin/errors?since=yesterday', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('validation_error');
    const missing = await api('GET', '/api/v3/admin/errors/999999', { token: admin });
    expect(missing.status).toBe(404);
    const cursor = await api('GET', '/api/v3/admin/errors?cursor=nonsense', { token: admin });
    expect(cursor.status).toBe(400);
  });
});
