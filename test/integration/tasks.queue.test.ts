import { createScheduledController, env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { api, registerAndLogin, unique } from '../helpers';
import { csv, deliver, getTask, hookStats, submit, waitForTask } from './tasks-helpers';

/*
 * The queue consumer driven directly with the Workers test helpers (createMessageBatch and
 * getQueueResult): the tasks here are submitted with an hour's delay, so the dispatcher holds
 * them and only the messages these tests deliver run them.
 */
let admin: string;
let token: string;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('qadmin'))).token;
  token = (await registerAndLogin(unique('queue'))).token;
});

const held = { delay_seconds: 3600 };
const run = (taskId: number, seq = 0) => ({ kind: 'run', task_id: taskId, seq });
/** As if a retrying task's wait had passed: a delivery before next_retry_at does not run it. */
const due = (taskId: number) =>
  env.DB.prepare('UPDATE tasks SET next_retry_at = ? WHERE id = ?')
    .bind(Date.now() - 1, taskId)
    .run();
const effects = async (taskId: number) =>
  (await env.DB.prepare('SELECT effect FROM task_effects WHERE task_id = ?').bind(taskId).all<{ effect: string }>()).results.map(
    (r) => r.effect,
  );

describe('at-least-once delivery', () => {
  it('a message delivered twice has one effect (one call, one attempt, one effect row)', async () => {
    const tag = unique('dup');
    const task = await submit(token, { name: 'once', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/ok` }, ...held });
    const first = await deliver('dwc-tasks', [{ id: 'm1', body: run(task.id) }]);
    expect(first.explicitAcks).toEqual(['m1']);
    const second = await deliver('dwc-tasks', [{ id: 'm1', body: run(task.id), attempts: 2 }]);
    expect(second.explicitAcks).toEqual(['m1']);
    expect((await hookStats(tag)).calls).toBe(1);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await effects(task.id)).toEqual(['delivered']);
  });

  it('two copies of one message in the same batch still run once', async () => {
    const task = await submit(token, { name: 'once', task_type: 'data_processing', payload: { data: csv }, ...held });
    const result = await deliver('dwc-tasks', [
      { id: 'a', body: run(task.id) },
      { id: 'b', body: run(task.id) },
    ]);
    expect(result.explicitAcks.sort()).toEqual(['a', 'b']);
    expect(result.retryMessages).toEqual([]);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await effects(task.id)).toEqual(['aggregated']);
  });

  it('a redelivery after the effect but before "done" does not call again', async () => {
    const tag = unique('crash');
    const task = await submit(token, {
      name: 'effect first',
      task_type: 'webhook_call',
      payload: { url: `http://hooks.test/${tag}/ok` },
      ...held,
    });
    // As if an earlier delivery had called the receiver and recorded it, then lost its lease.
    await env.DB.prepare("INSERT INTO task_effects (task_id, effect, detail) VALUES (?, 'delivered', '{\"status\":200}')")
      .bind(task.id)
      .run();
    await deliver('dwc-tasks', [{ body: run(task.id) }]);
    expect((await hookStats(tag)).calls).toBe(0);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'succeeded', result: { status: 200 } });
  });

  it('drops malformed messages instead of retrying them forever', async () => {
    const result = await deliver('dwc-tasks', [{ id: 'junk', body: { kind: 'explode', task_id: 'x' } }]);
    expect(result.explicitAcks).toEqual(['junk']);
  });
});

describe('retries and dead letters', () => {
  it("waits as long as a webhook receiver's Retry-After asks, then delivers once", async () => {
    const tag = unique('busy');
    const task = await submit(token, {
      name: 'busy receiver',
      task_type: 'webhook_call',
      payload: { url: `http://hooks.test/${tag}/busy-120` },
      ...held,
    });
    const first = await deliver('dwc-tasks', [{ id: 'b1', body: run(task.id), attempts: 1 }]);
    expect(first.retryDelays).toEqual([{ msgId: 'b1', delaySeconds: 120 }]);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'retrying', attempts: 1, error: expect.stringContaining('429') });
    await due(task.id);
    const second = await deliver('dwc-tasks', [{ id: 'b2', body: run(task.id), attempts: 2 }]);
    expect(second.explicitAcks).toEqual(['b2']);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await hookStats(tag)).calls).toBe(2);
  });

  it('retries a failing task with growing delays and lands in dead after max_retries + 1 attempts', async () => {
    const tag = unique('down');
    const task = await submit(token, {
      name: 'doomed',
      task_type: 'webhook_call',
      max_retries: 3,
      payload: { url: `http://hooks.test/${tag}/fail` },
      ...held,
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await due(task.id);
      const result = await deliver('dwc-tasks', [{ id: `d${attempt}`, body: run(task.id), attempts: attempt }]);
      expect(result.explicitAcks).toEqual([]);
      expect(result.retryDelays).toEqual([{ msgId: `d${attempt}`, delaySeconds: expect.any(Number) }]);
      delays.push(result.retryDelays[0]!.delaySeconds!);
      expect(await getTask(token, task.id)).toMatchObject({ status: 'retrying', attempts: attempt, error: expect.stringContaining('503') });
    }
    expect(delays[1]!).toBeGreaterThanOrEqual(delays[0]!);
    expect(delays[2]!).toBeGreaterThanOrEqual(delays[1]!);
    expect(delays[2]!).toBeGreaterThan(delays[0]!);

    // The fourth failure is the last: the consumer acks it and sends the task to the dead-letter
    // queue, whose (real, local) consumer marks it dead.
    await due(task.id);
    const last = await deliver('dwc-tasks', [{ id: 'd4', body: run(task.id), attempts: 4 }]);
    expect(last.explicitAcks).toEqual(['d4']);
    const dead = await waitForTask(token, task.id, (t) => t.status === 'dead');
    expect(dead.attempts).toBe(4);
    expect(dead.error).toMatch(/failed 4 attempt\(s\); last error: the receiver answered 503/);
    expect(dead.attempt_log!.map((a) => a.retry_delay_seconds)).toEqual([...delays, null]);
    expect((await hookStats(tag)).calls).toBe(4);
    // A straggling redelivery changes nothing.
    await deliver('dwc-tasks', [{ body: run(task.id), attempts: 5 }]);
    expect((await hookStats(tag)).calls).toBe(4);
  });

  it('the dead-letter consumer marks a task dead with the reason, once', async () => {
    const task = await submit(token, { name: 'lost', task_type: 'data_processing', payload: { data: csv }, ...held });
    const result = await deliver('dwc-tasks-dlq', [{ id: 'x', body: run(task.id) }]);
    expect(result.explicitAcks).toEqual(['x']);
    const dead = await getTask(token, task.id);
    expect(dead).toMatchObject({ status: 'dead', error: expect.stringContaining('dead-lettered by the queue') });
    await deliver('dwc-tasks-dlq', [{ body: { ...run(task.id), reason: 'again' } }]);
    expect((await getTask(token, task.id)).error).toBe(dead.error);
  });

  it('a task whose time budget runs out is timed_out instead of retried', async () => {
    const tag = unique('slowdown');
    const task = await submit(token, {
      name: 'budget',
      task_type: 'webhook_call',
      max_retries: 5,
      timeout_seconds: 1,
      payload: { url: `http://hooks.test/${tag}/fail` },
      ...held,
    });
    const result = await deliver('dwc-tasks', [{ body: run(task.id) }]);
    expect(result.retryMessages).toEqual([]);
    expect(await getTask(token, task.id)).toMatchObject({
      status: 'timed_out',
      attempts: 1,
      error: expect.stringContaining('no time left'),
    });
  });

  it('the cron reconcile re-sends a task whose message was lost', async () => {
    const task = await submit(token, { name: 'orphan', task_type: 'data_processing', payload: { data: csv }, ...held });
    // As if an attempt had started and its consumer died with the message.
    await env.DB.prepare("UPDATE tasks SET status = 'running', attempts = 1, started_at = ?, lease_until = ? WHERE id = ?")
      .bind(Date.now() - 120_000, Date.now() - 1000, task.id)
      .run();
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
    const done = await waitForTask(token, task.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});

describe('priority and fairness with a backlog', () => {
  const dispatchOrder = async (ids: number[]) => {
    const rows = await env.DB.prepare(`SELECT id, dispatch_seq FROM tasks WHERE id IN (${ids.join(',')})`).all<{
      id: number;
      dispatch_seq: number;
    }>();
    return new Map(rows.results.map((r) => [r.id, r.dispatch_seq]));
  };

  it('starts higher priorities before lower ones submitted earlier, and low still runs', async () => {
    expect((await api('POST', '/api/v3/background/service/pause', { token: admin })).json.paused).toBe(true);
    const user = (await registerAndLogin(unique('backlog'))).token;
    const job = (priority: string) => submit(user, { name: priority, task_type: 'data_processing', priority, payload: { data: csv } });
    const lows = [await job('low'), await job('low'), await job('low'), await job('low')];
    const normals = [await job('normal'), await job('normal')];
    const criticals = [await job('critical'), await job('critical')];
    const status = await api('POST', '/api/v3/background/service/resume', { token: admin });
    expect(status.json.paused).toBe(false);
    const all = [...lows, ...normals, ...criticals];
    for (const t of all) expect((await waitForTask(user, t.id)).status).toBe('succeeded');
    const seq = await dispatchOrder(all.map((t) => t.id));
    const s = (ts: typeof all) => ts.map((t) => seq.get(t.id)!);
    expect(Math.max(...s(criticals))).toBeLessThan(Math.min(...s(normals)));
    expect(Math.max(...s(normals))).toBeLessThan(Math.min(...s(lows)));
    expect(s(lows)).toEqual([...s(lows)].sort((a, b) => a - b));
  });

  it("one user flooding the service does not hold back another user's task", async () => {
    await api('POST', '/api/v3/background/service/pause', { token: admin });
    const flooder = (await registerAndLogin(unique('flood'))).token;
    const victim = (await registerAndLogin(unique('victim'))).token;
    const flood = [];
    for (let i = 0; i < 12; i++) flood.push(await submit(flooder, { name: `f${i}`, task_type: 'data_processing', payload: { data: csv } }));
    const theirs = await submit(victim, { name: 'mine', task_type: 'data_processing', payload: { data: csv } });
    await api('POST', '/api/v3/background/service/resume', { token: admin });
    await waitForTask(victim, theirs.id);
    for (const t of flood) await waitForTask(flooder, t.id);
    const seq = await dispatchOrder([...flood.map((t) => t.id), theirs.id]);
    const floodSeqs = flood.map((t) => seq.get(t.id)!).sort((a, b) => a - b);
    // Submitted last, it started second: right after the flood's oldest task.
    expect(seq.get(theirs.id)!).toBeLessThan(floodSeqs[1]!);
  });
});
