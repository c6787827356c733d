import { createScheduledController, env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { tickSchedule } from '../../src/scheduler/fire';
import { api, createWorkflow, poll, registerAndLogin, unique } from '../helpers';
import { csv, getTask, hookStats, waitForTask } from './tasks-helpers';

let token: string;
beforeAll(async () => {
  await registerAndLogin(unique('fadmin'));
  token = (await registerAndLogin(unique('firing'))).token;
});

const create = async (kind: string, body: Record<string, unknown>) => {
  const res = await api('POST', `/api/v3/scheduler/schedules/${kind}`, { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: number; next_fire_at: string };
};
const timer = (id: number) => env.SCHEDULE_TIMER.get(env.SCHEDULE_TIMER.idFromName(`schedule:${id}`));
const cron = () => worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
/** Moves a schedule's next fire into the past, as if its alarm were due now. */
const dueAt = (id: number, at: number) =>
  env.DB.prepare('UPDATE schedules SET next_fire_at = ?, next_run_at = ? WHERE id = ?').bind(at, at, id).run();
const fires = async (id: number) =>
  (
    await env.DB.prepare('SELECT fire_at, source, outcome, detail FROM schedule_fires WHERE schedule_id = ? ORDER BY fire_at')
      .bind(id)
      .all<{ fire_at: number; source: string; outcome: string; detail: string | null }>()
  ).results;
const tasksOf = async (id: number) =>
  (await env.DB.prepare('SELECT id, status FROM tasks WHERE schedule_id = ? ORDER BY id').bind(id).all<{ id: number; status: string }>())
    .results;
const target = { type: 'task', task_type: 'data_processing', payload: { data: csv } };

describe('firing', () => {
  it('fires a schedule with its alarm, to the second', async () => {
    const start = Math.ceil((Date.now() + 2000) / 1000) * 1000;
    const s = await create('interval', { name: 'soon', every_seconds: 3600, start_at: new Date(start).toISOString() });
    expect(Date.parse(s.next_fire_at)).toBe(start);
    await poll(
      () => fires(s.id),
      (f) => f.length > 0,
      { timeoutMs: 10_000, intervalMs: 100, what: 'the fires' },
    );
    const [fire] = (await api('GET', `/api/v3/scheduler/schedules/${s.id}/fires`, { token })).json.items;
    expect(fire).toMatchObject({ fire_at: new Date(start).toISOString(), source: 'alarm', outcome: 'recorded', manual: false });
    expect(fire.lateness_ms).toBeLessThan(2500); // an alarm, not a once-a-minute cron
    expect((await api('GET', `/api/v3/scheduler/schedules/${s.id}`, { token })).json.next_fire_at).toBe(
      new Date(start + 3_600_000).toISOString(),
    );
  });

  it('fires once per fire time even when the alarm and the cron reconcile both see it', async () => {
    const s = await create('interval', { name: 'once', every_seconds: 3600, catch_up_seconds: 86_400, target, overlap: 'allow' });
    // The first fire is one interval after creation: two intervals back is on the grid, and past.
    const due = Date.parse(s.next_fire_at) - 7_200_000;
    await dueAt(s.id, due);
    const [ran] = await Promise.all([runDurableObjectAlarm(timer(s.id)), cron()]);
    expect(ran).toBe(true);
    await Promise.all([runDurableObjectAlarm(timer(s.id)), cron()]);
    expect(await fires(s.id)).toEqual([expect.objectContaining({ fire_at: due, outcome: 'launched' })]);
    expect(await tasksOf(s.id)).toHaveLength(1);

    // Without the timer object's ordering, the fire ledger alone still decides: ticks race
    // straight against D1, and only one of them fires.
    await dueAt(s.id, due - 3_600_000);
    const results = await Promise.all([tickSchedule(env, s.id, 'alarm'), tickSchedule(env, s.id, 'cron'), tickSchedule(env, s.id, 'cron')]);
    expect(results.map((r) => r.fired).sort()).toEqual([0, 0, 1]);
    expect((await fires(s.id)).map((f) => f.fire_at)).toEqual([due - 3_600_000, due]);
    expect(await tasksOf(s.id)).toHaveLength(2);
    for (const t of await tasksOf(s.id)) expect((await waitForTask(token, t.id)).status).toBe('succeeded');
  });

  it('re-arms an alarm lost to a redeploy or eviction from the cron reconcile', async () => {
    const s = await create('interval', { name: 'rearm', every_seconds: 120 });
    const next = Date.parse(s.next_fire_at);
    expect(await runInDurableObject(timer(s.id), (_, state) => state.storage.getAlarm())).toBe(next);
    await runInDurableObject(timer(s.id), (_, state) => state.storage.deleteAlarm());
    expect(await runInDurableObject(timer(s.id), (_, state) => state.storage.getAlarm())).toBeNull();
    await cron();
    expect(await runInDurableObject(timer(s.id), (_, state) => state.storage.getAlarm())).toBe(next);

    // Lost while due: the reconcile fires what the alarm missed, then arms the next one.
    const late = await create('interval', { name: 'overdue', every_seconds: 3600, catch_up_seconds: 86_400 });
    const lateNext = Date.parse(late.next_fire_at);
    await dueAt(late.id, lateNext - 7_200_000);
    await runInDurableObject(timer(late.id), (_, state) => state.storage.deleteAlarm());
    await cron();
    expect(await fires(late.id)).toEqual([expect.objectContaining({ fire_at: lateNext - 7_200_000, source: 'cron', outcome: 'recorded' })]);
    expect(await runInDurableObject(timer(late.id), (_, state) => state.storage.getAlarm())).toBe(lateNext);
  });

  it('after downtime, backfills fires within the catch-up window and records older ones as missed', async () => {
    const s = await create('cron', { name: 'minutely', cron_expression: '* * * * *', catch_up_seconds: 300, overlap: 'allow', target });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    await dueAt(s.id, minute - 10 * 60_000);
    await cron();
    const rows = await fires(s.id);
    const missed = rows.filter((f) => f.outcome === 'missed');
    const launched = rows.filter((f) => f.outcome === 'launched');
    expect(missed).toHaveLength(1);
    const missedCount = JSON.parse(missed[0]!.detail!).count;
    expect(missed[0]!.fire_at).toBe(minute - 10 * 60_000);
    expect(missedCount).toBeGreaterThanOrEqual(5);
    expect(launched.length).toBeGreaterThanOrEqual(5);
    expect(launched.every((f) => f.fire_at >= minute - 5 * 60_000 && f.source === 'cron')).toBe(true);
    expect(await tasksOf(s.id)).toHaveLength(launched.length);
    // Every minute from the outage's start up to now was handled, one way or the other.
    const next = Date.parse((await api('GET', `/api/v3/scheduler/schedules/${s.id}`, { token })).json.next_fire_at);
    expect(next).toBeGreaterThan(Date.now() - 60_000);
    expect(missedCount + launched.length).toBe((next - (minute - 10 * 60_000)) / 60_000);
  });
});

describe('policies', () => {
  let waiting: number;
  beforeAll(async () => {
    // A workflow that waits for an approval: its task stays running until cancelled.
    waiting = (await createWorkflow(token, { name: 'waits', nodes: [{ id: 'review', type: 'approval', approval_timeout_seconds: 3600 }] }))
      .id;
  });
  const trigger = async (id: number) => (await api('POST', `/api/v3/scheduler/schedules/${id}/trigger`, { token })).json;
  const slow = () => ({ type: 'workflow', workflow_id: waiting, input: {} });

  it('overlap skip: a fire while the previous one runs is skipped', async () => {
    const s = await create('daily', { name: 'skip', time: '03:00', overlap: 'skip', target: slow() });
    const first = await trigger(s.id);
    const second = await trigger(s.id);
    expect(first.outcome).toBe('launched');
    expect(second).toMatchObject({
      outcome: 'skipped',
      task: null,
      detail: { reason: 'the previous fire is still running', task_ids: [first.task.id] },
    });
    await api('POST', `/api/v3/background/tasks/${first.task.id}/cancel`, { token });
  });

  it('overlap buffer_one: one fire waits for the previous and starts when it ends; more are skipped', async () => {
    const s = await create('daily', { name: 'buffer', time: '03:00', overlap: 'buffer_one', target: slow() });
    const first = await trigger(s.id);
    const second = await trigger(s.id);
    const third = await trigger(s.id);
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['launched', 'buffered', 'skipped']);
    await api('POST', `/api/v3/background/tasks/${first.task.id}/cancel`, { token });
    const history = (await api('GET', `/api/v3/scheduler/schedules/${s.id}/fires`, { token })).json.items;
    const buffered = history.find((f: any) => f.id === second.id);
    expect(buffered).toMatchObject({ outcome: 'launched', source: 'buffer', task: { status: expect.any(String) } });
    await api('POST', `/api/v3/background/tasks/${buffered.task.id}/cancel`, { token });
  });

  it('overlap cancel_previous: a new fire cancels the running one (and its run)', async () => {
    const s = await create('daily', { name: 'replace', time: '03:00', overlap: 'cancel_previous', target: slow() });
    const first = await trigger(s.id);
    const started = await waitForTask(token, first.task.id, (t) => t.run_id !== null);
    const second = await trigger(s.id);
    expect(second.outcome).toBe('launched');
    expect(await getTask(token, first.task.id)).toMatchObject({ status: 'cancelled', error: expect.stringContaining('cancel_previous') });
    const run = await api('GET', `/api/v3/workflows/${waiting}/runs/${started.run_id}`, { token });
    expect(run.json.status).toBe('cancelled');
    await api('POST', `/api/v3/background/tasks/${second.task.id}/cancel`, { token });
  });

  it('pauses a schedule after N consecutive failed fires', async () => {
    const tag = unique('refuse');
    const s = await create('daily', {
      name: 'fragile',
      time: '03:00',
      overlap: 'allow',
      max_retries: 0,
      pause_after_failures: 2,
      target: { type: 'task', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/status-400` } },
    });
    const a = await trigger(s.id);
    await waitForTask(token, a.task.id);
    expect((await api('GET', `/api/v3/scheduler/schedules/${s.id}`, { token })).json).toMatchObject({
      state: 'active',
      consecutive_failures: 1,
    });
    const b = await trigger(s.id);
    expect((await waitForTask(token, b.task.id)).status).toBe('failed');
    const after = (await api('GET', `/api/v3/scheduler/schedules/${s.id}`, { token })).json;
    expect(after).toMatchObject({
      state: 'paused',
      paused_reason: 'paused after 2 consecutive failures',
      consecutive_failures: 2,
      next_fire_at: null,
    });
    // The consumer ticks the schedule's timer after the batch, which then drops its alarm.
    await poll(
      () => runInDurableObject(timer(s.id), (_, state) => state.storage.getAlarm()),
      (alarm) => alarm === null,
      { timeoutMs: 5000, intervalMs: 50, what: "the timer's alarm" },
    );
    expect((await hookStats(tag)).calls).toBe(2);
    const stats = (await api('GET', '/api/v3/scheduler/service/stats', { token })).json;
    expect(stats.failures).toMatchObject({ fires_failed: 2, schedules_auto_paused: 1 });
  });
});
