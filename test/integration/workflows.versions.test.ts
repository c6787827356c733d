import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, simpleNodes, snapshot, startRun, unique, waitForRun } from '../helpers';

let alice: Awaited<ReturnType<typeof registerAndLogin>>;
let bob: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  alice = await registerAndLogin(unique('alice'));
  bob = await registerAndLogin(unique('bob'));
});

/** Version 1: three nodes; version 2: `draft` reworded, `headline` removed, `summary` added, renamed, concurrency changed. */
async function twoVersions(token: string) {
  const wf = await createWorkflow(token, { name: 'Blog', nodes: simpleNodes });
  const v2 = await api('PUT', `/api/v3/workflows/${wf.id}`, {
    token,
    body: {
      name: 'Blog v2',
      nodes: [
        simpleNodes[0],
        { ...simpleNodes[1], prompt: 'Write a short article from:\n{{nodes.outline.output}}' },
        { id: 'summary', type: 'summarize', depends_on: ['draft'] },
      ],
      settings: { concurrency: 2 },
    },
  });
  expect(v2.status, JSON.stringify(v2.json)).toBe(200);
  return wf.id;
}

describe('workflow versions', () => {
  it('lists versions newest first with the runs pinned to each, and pages through them', async () => {
    // A run of another workflow, at a version number this one also has, is not counted here.
    const other = await createWorkflow(alice.token, { name: 'Other', nodes: simpleNodes });
    await startRun(alice.token, other.id, { topic: 'elsewhere' });
    const id = await twoVersions(alice.token);
    const run = await startRun(alice.token, id, { topic: 'tides' });
    await api('PATCH', `/api/v3/workflows/${id}`, { token: alice.token, body: { description: 'third' } });

    const page1 = await api('GET', `/api/v3/workflows/${id}/versions?limit=2`, { token: alice.token });
    expect(page1.status).toBe(200);
    expect(page1.json.items.map((v: any) => [v.version, v.current, v.run_count])).toEqual([
      [3, true, 0],
      [2, false, 1],
    ]);
    expect(page1.json.items[1]).toMatchObject({ name: 'Blog v2', node_count: 3, created_by: alice.user.id });
    const page2 = await api('GET', `/api/v3/workflows/${id}/versions?limit=2&cursor=${page1.json.next_cursor}`, { token: alice.token });
    expect(page2.json).toMatchObject({ items: [{ version: 1, name: 'Blog', run_count: 0 }], next_cursor: null });
    expect(run.workflow_version).toBe(2);
  });

  it('reads one version as saved', async () => {
    const id = await twoVersions(alice.token);
    const v1 = await api('GET', `/api/v3/workflows/${id}/versions/1`, { token: alice.token });
    expect(v1.status).toBe(200);
    expect(v1.json).toMatchObject({ workflow_id: id, version: 1, current: false, name: 'Blog', settings: { concurrency: 4 } });
    expect(v1.json.nodes.map((n: { id: string }) => n.id)).toEqual(['outline', 'draft', 'headline']);
    expectError(await api('GET', `/api/v3/workflows/${id}/versions/9`, { token: alice.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${id}/versions/0`, { token: alice.token }), 400, 'validation_error');
  });

  it('diffs two versions node by node, naming the fields that changed', async () => {
    const id = await twoVersions(alice.token);
    const res = await api('GET', `/api/v3/workflows/${id}/diff?from=1&to=2`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      workflow_id: id,
      from: 1,
      to: 2,
      identical: false,
      fields: [{ field: 'name', before: 'Blog', after: 'Blog v2' }],
      settings: [{ field: 'concurrency', before: 4, after: 2 }],
      nodes: {
        added: [{ id: 'summary', type: 'summarize' }],
        removed: [{ id: 'headline', type: 'title' }],
        changed: [
          {
            id: 'draft',
            type: 'generate',
            fields: [{ field: 'prompt', before: simpleNodes[1]!.prompt, after: 'Write a short article from:\n{{nodes.outline.output}}' }],
          },
        ],
      },
    });
    // `to` defaults to the current version; a version against itself is identical.
    expect((await api('GET', `/api/v3/workflows/${id}/diff?from=2`, { token: alice.token })).json).toMatchObject({
      to: 2,
      identical: true,
    });
    expectError(await api('GET', `/api/v3/workflows/${id}/diff?from=1&to=7`, { token: alice.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${id}/diff`, { token: alice.token }), 400, 'validation_error');
  });

  it('rolls back by writing a new version equal to the old one; runs keep the version they started with', async () => {
    const id = await twoVersions(alice.token);
    const before = await startRun(alice.token, id, { topic: 'rivers' });
    expect(before.workflow_version).toBe(2);

    const rolled = await api('POST', `/api/v3/workflows/${id}/versions/1/rollback`, { token: alice.token });
    expect(rolled.status, JSON.stringify(rolled.json)).toBe(200);
    expect(rolled.json).toMatchObject({ version: 3, name: 'Blog', settings: { concurrency: 4 } });
    const v1 = (await api('GET', `/api/v3/workflows/${id}/versions/1`, { token: alice.token })).json;
    expect(rolled.json.nodes).toEqual(v1.nodes);
    expect((await api('GET', `/api/v3/workflows/${id}/diff?from=1&to=3`, { token: alice.token })).json.identical).toBe(true);

    const after = await startRun(alice.token, id, { topic: 'lakes' });
    expect(after.workflow_version).toBe(3);
    const done = await waitForRun(alice.token, id, before.id);
    expect(done.workflow_version).toBe(2);
    expect(done.nodes.map((n) => n.id).sort()).toEqual(['draft', 'outline', 'summary']);

    const audit = await env.DB.prepare("SELECT details FROM audit_log WHERE action = 'workflow.rollback' AND target_id = ?")
      .bind(String(id))
      .all<{ details: string }>();
    expect(audit.results.map((r) => JSON.parse(r.details))).toEqual([{ restored_version: 1, version: 3 }]);
  });

  it('refuses rolling back to the current version, and hides versions of workflows the caller does not own, changing nothing', async () => {
    const id = await twoVersions(alice.token);
    const before = await snapshot();
    expectError(await api('POST', `/api/v3/workflows/${id}/versions/2/rollback`, { token: alice.token }), 409, 'conflict');
    expectError(await api('POST', `/api/v3/workflows/${id}/versions/1/rollback`, { token: bob.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${id}/versions`, { token: bob.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${id}/versions/1`, { token: bob.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/${id}/diff?from=1`, { token: bob.token }), 404, 'not_found');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a rollback to a version whose subchain target was deleted since, writing nothing', async () => {
    const child = await createWorkflow(alice.token, { name: 'child', nodes: [{ id: 'a', type: 'generate', prompt: 'hi' }] });
    const parent = await createWorkflow(alice.token, {
      name: 'parent',
      nodes: [{ id: 'sub', type: 'subchain', workflow_id: child.id }],
    });
    await api('PUT', `/api/v3/workflows/${parent.id}`, {
      token: alice.token,
      body: { name: 'parent', nodes: [{ id: 'a', type: 'generate', prompt: 'x' }] },
    });
    expect((await api('DELETE', `/api/v3/workflows/${child.id}`, { token: alice.token })).status).toBe(204);
    const before = await snapshot();
    const res = await api('POST', `/api/v3/workflows/${parent.id}/versions/1/rollback`, { token: alice.token });
    expectError(res, 400, 'validation_error');
    expect(JSON.stringify(res.json.error.details)).toContain(`workflow ${child.id} not found`);
    expect(await snapshot()).toEqual(before);
  });
});
