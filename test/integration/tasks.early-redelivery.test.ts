import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin, unique } from '../helpers';
import { csv, deliver, getTask, hookStats, submit } from './tasks-helpers';

/*
 * Queues deliver at least once: a copy of a task's message (or a re-sent one) can arrive while
 * the task is `retrying` and its retry time — the backoff, or the wait a provider asked for with
 * Retry-After — has not come. Such a delivery must not run the attempt early, and must not lose
 * the retry either. Tasks here are submitted with an hour's delay, so the dispatcher holds them
 * and only the messages these tests deliver run them; the consumer's own sends go to a recording
 * queue binding instead of the real one.
 */
let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('early'))).token;
});

const held = { delay_seconds: 3600 };
const run = (taskId: number, seq = 0) => ({ kind: 'run', task_id: taskId, seq });

/** Bindings whose TASKS_QUEUE records what the consumer sends (or refuses every send). */
function recordingQueue(down = false) {
  const sent: { body: unknown; delaySeconds: number | undefined }[] = [];
  const queue = {
    send: async (body: unknown, opts?: QueueSendOptions) => {
      if (down) throw new Error('queue unavailable');
      sent.push({ body, delaySeconds: opts?.delaySeconds });
    },
    sendBatch: async () => {
      throw new Error('not expected here');
    },
  } as unknown as Queue;
  return { sent, bindings: { ...env, TASKS_QUEUE: queue } as Env };
}

const row = (id: number) =>
  env.DB.prepare('SELECT status, attempts, next_retry_at FROM tasks WHERE id = ?')
    .bind(id)
    .first<{ status: string; attempts: number; next_retry_at: number | null }>();
const attemptRows = async (id: number) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM task_attempts WHERE task_id = ?').bind(id).first<{ n: number }>())!.n;
/** As if the retry time had come: next_retry_at moves into the past. */
const makeDue = (id: number) =>
  env.DB.prepare('UPDATE tasks SET next_retry_at = ? WHERE id = ?')
    .bind(Date.now() - 1, id)
    .run();

/** A webhook_call whose receiver answers its first call 429 with Retry-After: 120, after that attempt. */
async function rateLimitedTask() {
  const tag = unique('rl');
  const task = await submit(token, {
    name: 'rate limited',
    task_type: 'webhook_call',
    payload: { url: `http://hooks.test/${tag}/busy-120` },
    ...held,
  });
  const first = await deliver('dwc-tasks', [{ id: `${tag}-1`, body: run(task.id) }]);
  expect(first.retryDelays).toEqual([{ msgId: `${tag}-1`, delaySeconds: 120 }]);
  const waiting = (await row(task.id))!;
  expect(waiting).toMatchObject({ status: 'retrying', attempts: 1 });
  expect(waiting.next_retry_at).toBeGreaterThan(Date.now());
  expect((await hookStats(tag)).calls).toBe(1);
  return { tag, task, nextRetryAt: waiting.next_retry_at! };
}

describe('a delivery before the retry time', () => {
  it('sends no request, leaves the task waiting, and is put back for the time that remains', async () => {
    const { tag, task, nextRetryAt } = await rateLimitedTask();
    const { sent, bindings } = recordingQueue();
    // A copy of the message, and the original redelivered at once (as after a consumer crash).
    const early = await deliver(
      'dwc-tasks',
      [
        { id: `${tag}-copy`, body: run(task.id) },
        { id: `${tag}-1`, body: run(task.id), attempts: 2 },
      ],
      bindings,
    );
    const after = Date.now();
    expect(early.explicitAcks.sort()).toEqual([`${tag}-1`, `${tag}-copy`].sort());
    expect(early.retryMessages).toEqual([]);
    expect((await hookStats(tag)).calls).toBe(1);
    expect(await row(task.id)).toEqual({ status: 'retrying', attempts: 1, next_retry_at: nextRetryAt });
    expect(await attemptRows(task.id)).toBe(1);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'retrying', attempts: 1 });
    // Each early delivery comes back as one fresh message, due no sooner than next_retry_at
    // (the consumer's clock read no later than `after`) and no later than the 120 s asked for.
    expect(sent).toHaveLength(2);
    for (const s of sent) {
      expect(s.body).toEqual(run(task.id));
      expect(s.delaySeconds).toBeGreaterThanOrEqual(1);
      expect(s.delaySeconds).toBeLessThanOrEqual(120);
      expect(after + s.delaySeconds! * 1000).toBeGreaterThanOrEqual(nextRetryAt);
    }

    // The retry time comes: the put-back message claims and runs the attempt, once.
    await makeDue(task.id);
    const due = await deliver('dwc-tasks', [{ id: `${tag}-due`, body: sent[0]!.body }], bindings);
    expect(due.explicitAcks).toEqual([`${tag}-due`]);
    expect(await getTask(token, task.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect((await hookStats(tag)).calls).toBe(2);
    // The other messages (the second put-back one, the original's delayed retry) change nothing.
    const late = await deliver(
      'dwc-tasks',
      [
        { id: `${tag}-late`, body: sent[1]!.body },
        { id: `${tag}-1`, body: run(task.id), attempts: 3 },
      ],
      bindings,
    );
    expect(late.explicitAcks.sort()).toEqual([`${tag}-1`, `${tag}-late`].sort());
    expect(sent).toHaveLength(2);
    expect((await hookStats(tag)).calls).toBe(2);
    expect(await attemptRows(task.id)).toBe(2);
  });

  it('is retried, not lost, when the queue refuses the put-back message', async () => {
    const { tag, task, nextRetryAt } = await rateLimitedTask();
    const { bindings } = recordingQueue(true);
    const early = await deliver('dwc-tasks', [{ id: `${tag}-copy`, body: run(task.id) }], bindings);
    expect(early.explicitAcks).toEqual([]);
    expect(early.retryMessages).toEqual([{ msgId: `${tag}-copy` }]);
    expect((await hookStats(tag)).calls).toBe(1);
    expect(await row(task.id)).toEqual({ status: 'retrying', attempts: 1, next_retry_at: nextRetryAt });
  });

  it('still runs a queued task at once, and a retrying one that has no retry time (a lost attempt)', async () => {
    const queued = await submit(token, { name: 'first run', task_type: 'data_processing', payload: { data: csv }, ...held });
    const first = await deliver('dwc-tasks', [{ id: 'q1', body: run(queued.id) }]);
    expect(first.explicitAcks).toEqual(['q1']);
    expect(await getTask(token, queued.id)).toMatchObject({ status: 'succeeded', attempts: 1 });

    // The reconcile moves an attempt whose lease ran out back to `retrying` without a retry time.
    const lost = await submit(token, { name: 'lost attempt', task_type: 'data_processing', payload: { data: csv }, ...held });
    await env.DB.prepare("UPDATE tasks SET status = 'retrying', attempts = 1, next_retry_at = NULL WHERE id = ?").bind(lost.id).run();
    const again = await deliver('dwc-tasks', [{ id: 'l1', body: run(lost.id) }]);
    expect(again.explicitAcks).toEqual(['l1']);
    expect(await getTask(token, lost.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});
