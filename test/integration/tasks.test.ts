import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, createWorkflow, expectError, registerAndLogin, unique } from '../helpers';
import { csv, getTask, hookStats, submit, waitForTask } from './tasks-helpers';

let admin: string;
let token: string;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('tadmin'))).token; // the first user of this file's database is admin
  token = (await registerAndLogin(unique('tasks'))).token;
});

describe('background tasks through the queue', () => {
  it("runs the seeds' data_processing example, and aggregates real data when given", async () => {
    // The seeds' body has no payload: the task aggregates an empty table and says so.
    const seed = await api('POST', '/api/v3/background/tasks/submit', {
      token,
      body: { name: 'Test Task', task_type: 'data_processing', priority: 'normal' },
    });
    expect(seed.status, JSON.stringify(seed.json)).toBe(201);
    const empty = await waitForTask(token, seed.json.id);
    expect(empty.status, JSON.stringify(empty)).toBe('succeeded');
    expect(empty.result.totals.count).toBe(0);

    const task = await submit(token, {
      name: 'Test Task',
      task_type: 'data_processing',
      priority: 'normal',
      payload: { data: csv, group_by: ['region'] },
    });
    expect(task).toMatchObject({ status: 'queued', attempts: 0, payload: { group_by: ['region'], delimiter: ',' } });
    const done = await waitForTask(token, task.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(1);
    expect(done.result.totals).toEqual({ count: 3, fields: { units: { count: 3, sum: 6, mean: 2, min: 1, max: 3 } } });
    expect(done.result.groups.map((g: any) => [g.key.region, g.count, g.fields.units.sum])).toEqual([
      ['north', 2, 5],
      ['south', 1, 1],
    ]);
    expect(done.attempt_log).toEqual([expect.objectContaining({ attempt: 1, status: 'succeeded', error: null })]);
  });

  it('aggregates JSON rows too', async () => {
    const task = await submit(token, {
      name: 'json',
      task_type: 'data_processing',
      payload: {
        data: [
          { k: 'a', v: 1 },
          { k: 'a', v: 2 },
          { k: 'b', v: 4 },
        ],
        group_by: ['k'],
        fields: ['v'],
      },
    });
    const done = await waitForTask(token, task.id);
    expect(done.result.groups.map((g: any) => [g.key.k, g.fields.v.mean])).toEqual([
      ['a', 1.5],
      ['b', 4],
    ]);
  });

  it('starts a workflow run through the chain engine and records its outcome', async () => {
    const wf = await createWorkflow(token, {
      name: 'from a task',
      nodes: [{ id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' }],
    });
    const task = await submit(token, {
      name: 'run it',
      task_type: 'workflow_run',
      payload: { workflow_id: wf.id, input: { topic: 'bees' } },
    });
    const done = await waitForTask(token, task.id);
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.run_id).toEqual(expect.any(Number));
    expect(done.result).toMatchObject({
      run_id: done.run_id,
      status: 'succeeded',
      output: { outline: { text: expect.stringContaining('bees') } },
    });
    const run = await api('GET', `/api/v3/workflows/${wf.id}/runs/${done.run_id}`, { token });
    expect(run.json.status).toBe('succeeded');
  });

  it('calls webhooks signed the Standard Webhooks way, with the task id as webhook-id', async () => {
    const tag = unique('sig');
    const { json: secret } = await api('GET', '/api/v3/background/webhooks/signing-secret', { token });
    expect(secret.secret).toMatch(/^whsec_/);
    const task = await submit(token, {
      name: 'hook',
      task_type: 'webhook_call',
      payload: { url: `http://hooks.test/${tag}/ok`, body: { hello: 'world' }, headers: { 'X-Custom': 'yes' } },
    });
    const done = await waitForTask(token, task.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ status: 200, webhook_id: `task_${task.id}` });
    const { requests } = await hookStats(tag);
    expect(requests).toHaveLength(1);
    const req = requests[0]!;
    expect(req.headers).toMatchObject({ 'webhook-id': `task_${task.id}`, 'x-custom': 'yes', 'content-type': 'application/json' });
    expect(req.body).toBe('{"hello":"world"}');
    const key = await crypto.subtle.importKey(
      'raw',
      Uint8Array.from(atob(secret.secret.slice(6)), (c) => c.charCodeAt(0)),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const mac = await crypto.subtle.sign(
      'HMAC',
      key,
      new TextEncoder().encode(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.${req.body}`),
    );
    expect(req.headers['webhook-signature']).toBe(`v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`);
  });

  it('does not follow redirects, and does not retry a 4xx', async () => {
    const tag = unique('redir');
    const redirected = await waitForTask(
      token,
      (await submit(token, { name: 'r', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/redirect` } })).id,
    );
    expect(redirected).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('redirects are not followed') });
    const rejected = await waitForTask(
      token,
      (await submit(token, { name: 'r', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/status-404` } })).id,
    );
    expect(rejected).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('404') });
    expect((await hookStats(tag)).calls).toBe(2);
  });

  it('retries a failing call with growing delays (real queue, real delays)', async () => {
    const tag = unique('flaky');
    const task = await submit(token, {
      name: 'flaky',
      task_type: 'webhook_call',
      max_retries: 3,
      payload: { url: `http://hooks.test/${tag}/flaky-2` },
    });
    const done = await waitForTask(token, task.id, undefined, 25_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempt_log!.map((a) => a.status)).toEqual(['failed', 'failed', 'succeeded']);
    const [d1, d2] = done.attempt_log!.map((a) => a.retry_delay_seconds!);
    expect(d2!).toBeGreaterThanOrEqual(d1!);
    expect((await hookStats(tag)).calls).toBe(3);
  });

  it("cleans up the owner's old rows only", async () => {
    const other = (await registerAndLogin(unique('other'))).token;
    const mine = await waitForTask(token, (await submit(token, { name: 'old', task_type: 'data_processing', payload: { data: csv } })).id);
    const theirs = await waitForTask(
      other,
      (await submit(other, { name: 'old', task_type: 'data_processing', payload: { data: csv } })).id,
    );
    await env.DB.prepare('UPDATE tasks SET finished_at = finished_at - 40 * 86400000 WHERE id IN (?, ?)').bind(mine.id, theirs.id).run();
    const cleanup = await waitForTask(
      token,
      (await submit(token, { name: 'retention', task_type: 'cleanup', payload: { older_than_days: 30 } })).id,
    );
    expect(cleanup.status).toBe('succeeded');
    expect(cleanup.result).toMatchObject({ older_than_days: 30, deleted: { tasks: expect.any(Number), schedule_fires: 0 } });
    expect(cleanup.result.deleted.tasks).toBeGreaterThanOrEqual(1);
    expectError(await api('GET', `/api/v3/background/tasks/${mine.id}`, { token }), 404, 'not_found');
    expect((await getTask(other, theirs.id)).status).toBe('succeeded');
  });
});

describe('submitting, reading and cancelling', () => {
  it('returns the same task for a repeated idempotency key, and 409 for a different body', async () => {
    const body = { name: 'once', task_type: 'data_processing', payload: { data: csv }, idempotency_key: unique('key') };
    const first = await submit(token, body);
    const again = await submit(token, body, 200);
    expect(again.id).toBe(first.id);
    expectError(await api('POST', '/api/v3/background/tasks/submit', { token, body: { ...body, priority: 'high' } }), 409, 'conflict');
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const before = await count('tasks');
    const bad = [
      { name: 'x', task_type: 'mystery' },
      { name: 'x', task_type: 'data_processing', priority: 'urgent', payload: { data: csv } },
      { name: 'x', task_type: 'data_processing', payload: { data: 'a,b\n"1,2\n' } },
      { name: 'x', task_type: 'data_processing', payload: { data: csv, group_by: ['nope'] } },
      { name: 'x', task_type: 'webhook_call', payload: { url: 'http://169.254.169.254/latest/meta-data/' } },
      { name: 'x', task_type: 'webhook_call', payload: { url: 'http://hooks.test/x', headers: { 'webhook-id': 'forged' } } },
      { name: 'x', task_type: 'cleanup', payload: { older_than_days: 0 } },
      { name: 'x', task_type: 'data_processing', payload: { data: csv }, max_retries: 11 },
      { name: 'x', task_type: 'data_processing', payload: { data: csv }, owner_id: 1 },
    ];
    for (const body of bad) expectError(await api('POST', '/api/v3/background/tasks/submit', { token, body }), 400, 'validation_error');
    expectError(
      await api('POST', '/api/v3/background/tasks/submit', {
        token,
        body: { name: 'x', task_type: 'workflow_run', payload: { workflow_id: 999999 } },
      }),
      404,
      'not_found',
    );
    expect(await count('tasks')).toBe(before);
  });

  it('bulk-submits all or nothing, and bulk-cancels with a result per id', async () => {
    const before = await count('tasks');
    const invalid = await api('POST', '/api/v3/background/tasks/bulk/submit', {
      token,
      body: {
        tasks: [
          { name: 'a', task_type: 'data_processing', payload: { data: csv } },
          { name: 'b', task_type: 'data_processing', payload: { data: 42 } },
        ],
      },
    });
    expectError(invalid, 400, 'validation_error');
    expect(invalid.json.error.details[0].path).toEqual(['tasks', 1, 'payload', 'data']);
    expect(await count('tasks')).toBe(before);

    const later = { task_type: 'data_processing', payload: { data: csv }, delay_seconds: 3600 };
    const bulk = await api('POST', '/api/v3/background/tasks/bulk/submit', {
      token,
      body: {
        tasks: [
          { name: 'a', ...later },
          { name: 'b', ...later },
        ],
      },
    });
    expect(bulk.status).toBe(201);
    expect(bulk.json.created).toBe(2);
    const [a, b] = bulk.json.items;
    const finished = await waitForTask(
      token,
      (await submit(token, { name: 'done', task_type: 'data_processing', payload: { data: csv } })).id,
    );
    const stranger = await registerAndLogin(unique('stranger'));
    const strangers = await submit(stranger.token, { name: 's', ...later });
    const cancel = await api('POST', '/api/v3/background/tasks/bulk/cancel', {
      token,
      body: { task_ids: [a.id, b.id, finished.id, strangers.id] },
    });
    expect(cancel.json.results).toEqual([
      { id: a.id, outcome: 'cancelled', status: 'cancelled' },
      { id: b.id, outcome: 'cancelled', status: 'cancelled' },
      { id: finished.id, outcome: 'already_finished', status: 'succeeded' },
      { id: strangers.id, outcome: 'not_found', status: null },
    ]);
    expect((await getTask(stranger.token, strangers.id)).status).toBe('queued');
    expectError(await api('POST', `/api/v3/background/tasks/${finished.id}/cancel`, { token }), 409, 'conflict');
    expectError(
      await api('POST', '/api/v3/background/tasks/bulk/cancel', {
        token,
        body: { task_ids: Array.from({ length: 101 }, (_, i) => i + 1) },
      }),
      400,
      'validation_error',
    );
  });

  it('cancels a delayed task before it starts', async () => {
    const task = await submit(token, { name: 'later', task_type: 'data_processing', payload: { data: csv }, delay_seconds: 600 });
    const res = await api('POST', `/api/v3/background/tasks/${task.id}/cancel`, { token });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it("lists your tasks with filters and cursor pagination; others' tasks are 404", async () => {
    const own = await registerAndLogin(unique('lister'));
    for (const priority of ['low', 'high', 'high'])
      await submit(own.token, { name: priority, task_type: 'data_processing', priority, payload: { data: csv }, delay_seconds: 600 });
    const page1 = await api('GET', '/api/v3/background/tasks?limit=2', { token: own.token });
    expect(page1.json.items).toHaveLength(2);
    const page2 = await api('GET', `/api/v3/background/tasks?limit=2&cursor=${page1.json.next_cursor}`, { token: own.token });
    expect(page2.json).toMatchObject({ items: [expect.objectContaining({ priority: 'low' })], next_cursor: null });
    const high = await api('GET', '/api/v3/background/tasks?priority=high&status=queued', { token: own.token });
    expect(high.json.items.map((t: any) => t.priority)).toEqual(['high', 'high']);
    expectError(await api('GET', `/api/v3/background/tasks/${high.json.items[0].id}`, { token }), 404, 'not_found');
    expectError(await api('GET', '/api/v3/background/tasks?status=sleeping', { token }), 400, 'validation_error');
  });

  it('counts stats from stored rows: yours by default, the whole service for admins', async () => {
    const own = await registerAndLogin(unique('counter'));
    const done = await waitForTask(
      own.token,
      (await submit(own.token, { name: 'c', task_type: 'data_processing', priority: 'high', payload: { data: csv } })).id,
    );
    await submit(own.token, { name: 'q', task_type: 'cleanup', priority: 'low', delay_seconds: 600 });
    const stats = await api('GET', '/api/v3/background/service/stats', { token: own.token });
    expect(stats.status).toBe(200);
    expect(stats.json).toMatchObject({
      scope: 'mine',
      total: 2,
      by_status: { succeeded: 1, queued: 1, dead: 0 },
      by_type: { data_processing: 1, cleanup: 1, webhook_call: 0 },
      by_priority: { high: 1, low: 1, normal: 0 },
      throughput: { submitted: 2, finished: 1, succeeded: 1 },
      dead_letter: { total: 0 },
    });
    const run = Date.parse(done.finished_at!) - Date.parse(done.started_at!);
    expect(stats.json.run_ms).toMatchObject({ samples: 1, p50: run, p95: run });
    expect(stats.json.wait_ms.samples).toBe(1);
    expect(stats.json.dispatcher).toBeUndefined();

    expectError(await api('GET', '/api/v3/background/service/stats?scope=all', { token: own.token }), 403, 'forbidden');
    const all = await api('GET', '/api/v3/background/service/stats?scope=all', { token: admin });
    expect(all.json.scope).toBe('all');
    expect(all.json.total).toBeGreaterThan(stats.json.total);
    expect(all.json.dispatcher).toMatchObject({ paused: false, per_user_cap: expect.any(Number) });
  });
});
