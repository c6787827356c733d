import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, createWorkflow, expectError, registerAndLogin, unique } from '../helpers';
import { csv, waitForTask } from './tasks-helpers';

let admin: string;
let token: string;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('schadmin'))).token;
  token = (await registerAndLogin(unique('sched'))).token;
});

const create = async (kind: string, body: Record<string, unknown>, t = token) => {
  const res = await api('POST', `/api/v3/scheduler/schedules/${kind}`, { token: t, body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
};

describe('creating schedules', () => {
  it("accepts the seeds' cron example: a schedule whose fires are recorded, armed for 02:00 UTC", async () => {
    const s = await create('cron', { name: 'Daily Backup', cron_expression: '0 2 * * *' });
    expect(s).toMatchObject({
      kind: 'cron',
      cron_expression: '0 2 * * *',
      timezone: 'UTC',
      target: null,
      state: 'active',
      overlap: 'skip',
    });
    const next = new Date(s.next_fire_at);
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([2, 0, 0]);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime()).toBeLessThanOrEqual(Date.now() + 86_400_000);
  });

  it('creates interval, daily, weekly and monthly schedules with their fire times', async () => {
    const interval = await create('interval', { name: 'every 90s', every_seconds: 90 });
    expect(Date.parse(interval.next_fire_at) - Date.now()).toBeGreaterThan(85_000);
    const daily = await create('daily', { name: 'daily', time: '09:30', timezone: 'Europe/Madrid' });
    expect(daily).toMatchObject({ kind: 'daily', time: '09:30', cron_expression: '0 30 9 * * *' });
    const weekly = await create('weekly', { name: 'weekly', time: '18:00', weekdays: ['mon', 'fri'], timezone: 'America/New_York' });
    expect(weekly).toMatchObject({ weekdays: ['mon', 'fri'], cron_expression: '0 0 18 * * 1,5' });
    expect(await create('weekly', { name: 'one day', time: '07:00', weekday: 'sun' })).toMatchObject({ weekdays: ['sun'] });
    const monthly = await create('monthly', { name: 'month end', time: '23:00', day_of_month: 'last' });
    const preview = await api('GET', `/api/v3/scheduler/schedules/${monthly.id}/preview?count=3&from=2027-01-10T00:00:00Z`, { token });
    expect(preview.json.fires.map((f: any) => f.at)).toEqual([
      '2027-01-31T23:00:00.000Z',
      '2027-02-28T23:00:00.000Z',
      '2027-03-31T23:00:00.000Z',
    ]);
  });

  it('answers 400 for a bad cron expression, time zone or frequency, and writes nothing', async () => {
    const before = { schedules: await count('schedules'), audit: await count('audit_log') };
    const bad: [string, Record<string, unknown>, string][] = [
      ['cron', { name: 'x', cron_expression: '61 * * * *' }, 'cron_expression'],
      ['cron', { name: 'x', cron_expression: 'every day at noon' }, 'cron_expression'],
      ['cron', { name: 'x', cron_expression: '0 2 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
      ['cron', { name: 'x', cron_expression: '*/2 * * * * *' }, 'cron_expression'],
      ['interval', { name: 'x', every_seconds: 5 }, 'every_seconds'],
      ['daily', { name: 'x', time: '25:00' }, 'time'],
      ['weekly', { name: 'x', time: '10:00' }, 'weekdays'],
      ['monthly', { name: 'x', time: '10:00', day_of_month: 32 }, 'day_of_month'],
      [
        'cron',
        { name: 'x', cron_expression: '0 2 * * *', target: { type: 'task', task_type: 'data_processing', payload: { data: 42 } } },
        'target',
      ],
      [
        'cron',
        {
          name: 'x',
          cron_expression: '0 2 * * *',
          target: { type: 'task', task_type: 'webhook_call', payload: { url: 'http://10.0.0.1/' } },
        },
        'target',
      ],
    ];
    for (const [kind, body, field] of bad) {
      const res = await api('POST', `/api/v3/scheduler/schedules/${kind}`, { token, body });
      expectError(res, 400, 'validation_error');
      expect(res.json.error.details[0].path[0], JSON.stringify(res.json)).toBe(field);
    }
    expectError(
      await api('POST', '/api/v3/scheduler/schedules/cron', {
        token,
        body: { name: 'x', cron_expression: '0 2 * * *', target: { type: 'workflow', workflow_id: 99999 } },
      }),
      404,
      'not_found',
    );
    expect({ schedules: await count('schedules'), audit: await count('audit_log') }).toEqual(before);
  });
});

describe('previews', () => {
  it("are DST-correct, in UTC and in the schedule's local time", async () => {
    const res = await api('POST', '/api/v3/scheduler/schedules/preview', {
      token,
      body: { cron_expression: '0 9 * * *', timezone: 'Europe/Madrid', count: 4, from: '2026-03-27T00:00:00Z' },
    });
    expect(res.status).toBe(200);
    expect(res.json.fires).toEqual([
      { at: '2026-03-27T08:00:00.000Z', local: '2026-03-27T09:00:00+01:00' },
      { at: '2026-03-28T08:00:00.000Z', local: '2026-03-28T09:00:00+01:00' },
      { at: '2026-03-29T07:00:00.000Z', local: '2026-03-29T09:00:00+02:00' },
      { at: '2026-03-30T07:00:00.000Z', local: '2026-03-30T09:00:00+02:00' },
    ]);
    const s = await create('daily', { name: 'ny', time: '02:30', timezone: 'America/New_York' });
    const gap = await api('GET', `/api/v3/scheduler/schedules/${s.id}/preview?count=3&from=2026-03-07T00:00:00Z`, { token });
    expect(gap.json.fires.map((f: any) => f.local)).toEqual([
      '2026-03-07T02:30:00-05:00',
      '2026-03-08T03:00:00-04:00',
      '2026-03-09T02:30:00-04:00',
    ]);
    expectError(
      await api('POST', '/api/v3/scheduler/schedules/preview', { token, body: { cron_expression: '0 2 * * *', timezone: 'Nowhere/City' } }),
      400,
      'validation_error',
    );
    expectError(
      await api('POST', '/api/v3/scheduler/schedules/preview', { token, body: { cron_expression: '0 0 32 * *' } }),
      400,
      'validation_error',
    );
  });
});

describe('managing schedules', () => {
  it("lists, gets, updates, pauses, resumes and deletes; others' schedules are 404", async () => {
    const s = await create('cron', { name: 'manage me', cron_expression: '0 3 * * *' });
    const list = await api('GET', '/api/v3/scheduler/schedules?limit=100', { token });
    expect(list.json.items.map((i: any) => i.id)).toContain(s.id);

    const updated = await api('PATCH', `/api/v3/scheduler/schedules/${s.id}`, {
      token,
      body: { cron_expression: '30 4 * * *', timezone: 'Asia/Tokyo', overlap: 'allow' },
    });
    expect(updated.json).toMatchObject({ cron_expression: '30 4 * * *', timezone: 'Asia/Tokyo', overlap: 'allow' });
    expect(new Date(updated.json.next_fire_at).getUTCHours()).toBe(19); // 04:30 in Tokyo
    expectError(await api('PATCH', `/api/v3/scheduler/schedules/${s.id}`, { token, body: { every_seconds: 60 } }), 400, 'validation_error');
    expectError(
      await api('PATCH', `/api/v3/scheduler/schedules/${s.id}`, { token, body: { cron_expression: 'nope' } }),
      400,
      'validation_error',
    );

    const paused = await api('POST', `/api/v3/scheduler/schedules/${s.id}/pause`, { token });
    expect(paused.json).toMatchObject({ state: 'paused', paused_reason: 'paused by request', next_fire_at: null });
    const resumed = await api('POST', `/api/v3/scheduler/schedules/${s.id}/resume`, { token });
    expect(resumed.json).toMatchObject({ state: 'active', next_fire_at: updated.json.next_fire_at });

    const stranger = (await registerAndLogin(unique('sstranger'))).token;
    expectError(await api('GET', `/api/v3/scheduler/schedules/${s.id}`, { token: stranger }), 404, 'not_found');
    expectError(
      await api('PATCH', `/api/v3/scheduler/schedules/${s.id}`, { token: stranger, body: { name: 'mine now' } }),
      404,
      'not_found',
    );
    expectError(await api('POST', `/api/v3/scheduler/schedules/${s.id}/trigger`, { token: stranger }), 404, 'not_found');
    expectError(await api('DELETE', `/api/v3/scheduler/schedules/${s.id}`, { token: stranger }), 404, 'not_found');

    expect((await api('DELETE', `/api/v3/scheduler/schedules/${s.id}`, { token })).status).toBe(204);
    expectError(await api('GET', `/api/v3/scheduler/schedules/${s.id}`, { token }), 404, 'not_found');
  });

  it('triggers now: a background task target runs, and the fire shows its outcome', async () => {
    const s = await create('daily', {
      name: 'report',
      time: '06:00',
      target: { type: 'task', task_type: 'data_processing', payload: { data: csv, group_by: ['region'] }, priority: 'high' },
    });
    expect(s.target).toMatchObject({ type: 'task', payload: { group_by: ['region'], delimiter: ',' } });
    const fire = await api('POST', `/api/v3/scheduler/schedules/${s.id}/trigger`, { token });
    expect(fire.status).toBe(201);
    expect(fire.json).toMatchObject({ manual: true, source: 'manual', outcome: 'launched', task: { status: 'queued' } });
    const task = await waitForTask(token, fire.json.task.id);
    expect(task).toMatchObject({ status: 'succeeded', schedule_id: s.id, priority: 'high' });
    const history = await api('GET', `/api/v3/scheduler/schedules/${s.id}/fires`, { token });
    expect(history.json.items).toEqual([
      expect.objectContaining({ id: fire.json.id, outcome: 'launched', task: { id: task.id, status: 'succeeded', error: null } }),
    ]);
  });

  it('runs a workflow target through the chain engine', async () => {
    const wf = await createWorkflow(token, {
      name: 'scheduled chain',
      nodes: [{ id: 't', type: 'transform', source: '{{input.text}}', operations: [{ op: 'uppercase' }] }],
    });
    const s = await create('cron', {
      name: 'chain',
      cron_expression: '0 5 * * *',
      target: { type: 'workflow', workflow_id: wf.id, input: { text: 'hello' } },
    });
    const fire = await api('POST', `/api/v3/scheduler/schedules/${s.id}/trigger`, { token });
    const task = await waitForTask(token, fire.json.task.id);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(task.result).toMatchObject({ status: 'succeeded', output: { t: { text: 'HELLO' } } });
  });

  it('counts stats from stored schedules and fires', async () => {
    const own = (await registerAndLogin(unique('sstats'))).token;
    const a = await create('cron', { name: 'a', cron_expression: '0 1 * * *' }, own);
    await create('interval', { name: 'b', every_seconds: 3600 }, own);
    await api('POST', `/api/v3/scheduler/schedules/${a.id}/pause`, { token: own });
    const s = await create('daily', { name: 'c', time: '12:00' }, own);
    await api('POST', `/api/v3/scheduler/schedules/${s.id}/trigger`, { token: own });
    const stats = await api('GET', '/api/v3/scheduler/service/stats', { token: own });
    expect(stats.json).toMatchObject({
      scope: 'mine',
      schedules: { total: 3, by_state: { active: 2, paused: 1 }, by_kind: { cron: 1, interval: 1, daily: 1 }, auto_paused: 0 },
      fires: { total: 1, by_outcome: { recorded: 1, launched: 0 } },
      lateness_ms: { samples: 0 }, // manual fires have no lateness
      failures: { fires_failed: 0 },
    });
    expectError(await api('GET', '/api/v3/scheduler/service/stats?scope=all', { token: own }), 403, 'forbidden');
    expect((await api('GET', '/api/v3/scheduler/service/stats?scope=all', { token: admin })).json.schedules.total).toBeGreaterThan(3);
  });
});
