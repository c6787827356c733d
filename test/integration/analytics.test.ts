import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { track, trackApiKeyUse } from '../../src/analytics/track';
import { getDb } from '../../src/db/client';
import { api, expectError, registerAndLogin, simpleNodes, unique } from '../helpers';
import { MONTH_TO, RUNS_PER_DAY, seedHistory, TOTAL_PER_DAY } from './analytics-seed';

/*
 * Analytics over a seeded history (analytics-seed.ts): exact bucket counts, trends against the
 * previous period, insights with their figures, reports, and who may see what.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let owner: Awaited<ReturnType<typeof registerAndLogin>>;
let other: Awaited<ReturnType<typeof registerAndLogin>>;
let w1: number;
let w2: number;

beforeAll(async () => {
  admin = await registerAndLogin(unique('anadmin'));
  owner = await registerAndLogin(unique('anowner'));
  other = await registerAndLogin(unique('another'));
  ({ w1, w2 } = await seedHistory(owner.user.id));
});

const MONTH = `time_range=month&to=${MONTH_TO}`;
const get = (path: string, token: string) => api('GET', `/api/v3/analytics${path}`, { token });

describe('series and trends', () => {
  it('counts every bucket of the month exactly, empty buckets as 0', async () => {
    const res = await get(`/series?${MONTH}&type=run.started`, owner.token);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({
      scope: 'mine',
      time_range: 'month',
      from: '2026-01-30T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
      bucket: '1d',
      buckets: 30,
    });
    expect(res.json.by_type['run.started'].map((p: { count: number }) => p.count)).toEqual(RUNS_PER_DAY);
    expect(res.json.by_type['run.started'][20]).toEqual({ start: '2026-02-19T00:00:00.000Z', count: 22 });

    const summary = await get(`/summary?${MONTH}`, owner.token);
    expect(summary.json.series.map((p: { count: number }) => p.count)).toEqual(TOTAL_PER_DAY);
  });

  it('compares with the previous period of the same length', async () => {
    const res = await get(`/summary?${MONTH}`, owner.token);
    expect(res.json.previous).toEqual({ from: '2025-12-31T00:00:00.000Z', to: '2026-01-30T00:00:00.000Z' });
    expect(res.json.by_type).toMatchObject({
      'run.started': { count: 81, previous: 34, change: 47, change_pct: 138.2 },
      'run.completed': { count: 77, previous: 34, change: 43, change_pct: 126.5 },
      'run.failed': { count: 4, previous: 0, change: 4, change_pct: null },
      'workflow.created': { count: 1, previous: 1, change: 0, change_pct: 0 },
      'document.generated': { count: 1, previous: 0 },
      'document.edited': { count: 1, previous: 0 },
      'task.submitted': { count: 1 },
      'task.failed': { count: 1 },
      'login.succeeded': { count: 1 },
      'login.failed': { count: 1 },
      'notification.sent': { count: 2 },
      'custom.report.downloaded': { count: 1 },
      'schedule.fired': { count: 0, previous: 0, change: 0, change_pct: null },
    });
    expect(res.json.totals).toEqual({ count: 172, previous: 69, change: 103, change_pct: 149.3 });
  });

  it('buckets a day by the hour and an hour by 5 minutes', async () => {
    const day = await get('/series?time_range=day&to=2026-02-19T12:00:00Z&type=run.started', owner.token);
    expect(day.json).toMatchObject({ bucket: '1h', buckets: 24, from: '2026-02-18T12:00:00.000Z' });
    expect(day.json.by_type['run.started'].map((p: { count: number }) => p.count)).toEqual(
      Array.from({ length: 24 }, (_, i) => (i === 22 ? 22 : 0)),
    );
    const daySummary = await get('/summary?time_range=day&to=2026-02-19T12:00:00Z', owner.token);
    expect(daySummary.json.by_type['run.started']).toEqual({ count: 22, previous: 1, change: 21, change_pct: 2100 });

    const hour = await get('/summary?time_range=hour&to=2026-02-19T10:30:00Z', owner.token);
    expect(hour.json).toMatchObject({ bucket: '5m', buckets: 12, from: '2026-02-19T09:30:00.000Z' });
    expect(hour.json.by_type['run.started']).toEqual({ count: 22, previous: 0, change: 22, change_pct: null });
    expect(hour.json.series.map((p: { count: number }) => p.count)).toEqual([0, 0, 0, 0, 0, 0, 44, 0, 0, 0, 0, 0]);
  });

  it('serves all six ranges ending now, each with its bucket size', async () => {
    const expected: Record<string, [string, number]> = {
      hour: ['5m', 12],
      day: ['1h', 24],
      week: ['6h', 28],
      month: ['1d', 30],
      quarter: ['1d', 90],
      year: ['1w', 52],
    };
    for (const [range, [bucket, buckets]] of Object.entries(expected)) {
      const res = await get(`/summary?time_range=${range}`, owner.token);
      expect(res.status, range).toBe(200);
      expect(res.json, range).toMatchObject({ time_range: range, bucket, buckets });
      expect(res.json.series, range).toHaveLength(buckets);
      expect((await get(`/insights?time_range=${range}`, owner.token)).status, range).toBe(200);
    }
  });

  it('answers on the original API path too', async () => {
    const res = await api('GET', `/api/v3/advanced/analytics/summary?${MONTH}`, { token: owner.token });
    expect(res.status).toBe(200);
    expect(res.json.totals.count).toBe(172);
  });
});

describe('insights', () => {
  it('reports no anomaly before a scope has a week of history, then judges days against it', async () => {
    const fresh = await registerAndLogin(unique('anfresh'));
    const DAY = 86_400_000;
    const dayStart = Math.floor(Date.now() / DAY) * DAY;
    const event = (at: number, n: number) =>
      env.DB.prepare(`INSERT INTO analytics_events (type, user_id, at, dedupe_key) VALUES ('custom.burst', ?, ?, ?)`).bind(
        fresh.user.id,
        at,
        `fresh:${fresh.user.id}:${n}`,
      );
    // A new account's first day: 12 events against nothing before them.
    await env.DB.batch(Array.from({ length: 12 }, (_, i) => event(dayStart + 1000 + i, i)));
    const first = await get('/insights?time_range=week', fresh.token);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json.anomalies).toEqual([]);

    // The same burst after ten quiet days with one event each is an anomaly.
    await env.DB.batch(Array.from({ length: 10 }, (_, i) => event(dayStart - (i + 1) * DAY + 5000, 100 + i)));
    const later = await get('/insights?time_range=week', fresh.token);
    const burst = later.json.anomalies.find((a: { type: string }) => a.type === 'custom.burst');
    expect(burst).toMatchObject({ day: new Date(dayStart).toISOString().slice(0, 10), direction: 'spike', value: 12, median: 1 });
  });

  it('finds the day-20 anomaly with its median, MAD and z', async () => {
    const res = await get(`/insights?${MONTH}`, owner.token);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const started = res.json.anomalies.find((a: { type: string }) => a.type === 'run.started');
    expect(started).toMatchObject({
      day: '2026-02-19',
      direction: 'spike',
      value: 22,
      median: 2,
      mad: 1,
      scale: 'mad',
      z: 13.49,
      threshold: 3.5,
    });
    expect(started.period).toEqual({ from: '2026-01-30T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z', days: 30 });
    expect(started.values).toEqual(RUNS_PER_DAY);
  });

  it('names failure spikes, slow nodes and expensive workflows with their figures', async () => {
    const res = await get(`/insights?${MONTH}`, owner.token);
    expect(res.json.failure_spikes).toEqual([
      expect.objectContaining({
        workflow_id: w2,
        failed: 4,
        finished: 5,
        failure_rate: 0.8,
        previous: { failed: 0, finished: 4, failure_rate: 0 },
        analytics_url: `/api/v3/workflows/${w2}/analytics`,
      }),
    ]);
    expect(res.json.slowest_nodes.map((n: Record<string, unknown>) => [n.workflow_id, n.node_id, n.samples, n.mean_ms, n.max_ms])).toEqual([
      [w2, 'draft', 5, 900, 900],
      [w1, 'outline', 3, 120, 120],
    ]);
    expect(res.json.expensive_workflows.map((e: Record<string, unknown>) => [e.workflow_id, e.runs, e.tokens, e.share])).toEqual([
      [w1, 76, 1140, 0.603],
      [w2, 5, 750, 0.397],
    ]);
  });
});

describe('per workflow, per user, top lists and reports', () => {
  it('lists activity per workflow with a link to its run analytics', async () => {
    const res = await get(`/workflows?${MONTH}`, owner.token);
    expect(res.json.items).toEqual([
      {
        workflow_id: w1,
        name: 'Weekly digest',
        runs_started: 76,
        runs_completed: 76,
        runs_failed: 0,
        failure_rate: 0,
        documents_generated: 1,
        documents_edited: 1,
        tokens_in: 760,
        tokens_out: 380,
        analytics_url: `/api/v3/workflows/${w1}/analytics`,
      },
      {
        workflow_id: w2,
        name: '=HYPERLINK("http://evil")',
        runs_started: 5,
        runs_completed: 1,
        runs_failed: 4,
        failure_rate: 0.8,
        documents_generated: 0,
        documents_edited: 0,
        tokens_in: 500,
        tokens_out: 250,
        analytics_url: `/api/v3/workflows/${w2}/analytics`,
      },
    ]);
    const top = await get(`/top?${MONTH}&limit=1`, owner.token);
    expect(top.json.most_run_workflows).toEqual([expect.objectContaining({ workflow_id: w1, runs_started: 76 })]);
    expect(top.json.most_failing_workflows).toEqual([expect.objectContaining({ workflow_id: w2, runs_failed: 4, failure_rate: 0.8 })]);
    expect(top.json.most_active_users).toEqual([{ user_id: owner.user.id, username: owner.user.username, events: 172 }]);
  });

  it('exports CSV with RFC 4180 quoting and formula cells neutralised, and the same rows as JSON', async () => {
    const csv = await api('GET', `/api/v3/analytics/report?${MONTH}&dataset=workflows&format=csv`, { token: owner.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (csv.json as string).split('\r\n');
    expect(lines[0]).toBe(
      'workflow_id,name,runs_started,runs_completed,runs_failed,failure_rate,documents_generated,documents_edited,tokens_in,tokens_out',
    );
    expect(lines[2]).toBe(`${w2},"'=HYPERLINK(""http://evil"")",5,1,4,0.8,0,0,500,250`);
    const json = await get(`/report?${MONTH}&dataset=summary&format=json`, owner.token);
    expect(json.json.rows).toContainEqual({ type: 'run.started', count: 81, previous: 34, change: 47, change_pct: 138.2 });
    const series = await api('GET', `/api/v3/analytics/report?${MONTH}&dataset=series&format=csv`, { token: owner.token });
    expect(series.json).toContain('2026-02-19T00:00:00.000Z,run.started,22\r\n');
  });
});

describe('access', () => {
  it('shows a user only their own events, and admins the whole service', async () => {
    const mine = await get(`/summary?${MONTH}`, other.token);
    expect(mine.json).toMatchObject({ scope: 'mine', totals: { count: 0, previous: 0 } });
    expectError(await get(`/summary?${MONTH}&scope=all`, other.token), 403, 'forbidden');

    const all = await get(`/summary?${MONTH}`, admin.token);
    expect(all.json.scope).toBe('all');
    // The failed sign-in of an unknown name belongs to no user: only the service-wide view has it.
    expect(all.json.by_type['login.failed'].count).toBe(2);
    expect(all.json.totals.count).toBe(173);
    const adminOwn = await get(`/summary?${MONTH}&scope=mine`, admin.token);
    expect(adminOwn.json.totals.count).toBe(0);

    const users = await get(`/users?${MONTH}`, admin.token);
    expect(users.json.items.map((u: { user_id: number; total: number }) => [u.user_id, u.total])).toEqual([[owner.user.id, 172]]);
    const own = await get(`/users?${MONTH}`, other.token);
    expect(own.json.items).toEqual([]);
  });

  it("needs analytics:read on an API key, and counts the key's use once per minute", async () => {
    const bad = await api('POST', '/api/v3/auth/api-keys', { token: other.token, body: { name: 'wf', scopes: ['workflows:read'] } });
    expectError(await api('GET', '/api/v3/analytics/summary', { apiKey: bad.json.key, direct: true }), 403, 'forbidden');
    const key = await api('POST', '/api/v3/auth/api-keys', { token: other.token, body: { name: 'an', scopes: ['analytics:read'] } });
    expect(key.status).toBe(201);
    // `direct` waits for the request's waitUntil work, where the key's use is recorded.
    expect((await api('GET', '/api/v3/analytics/summary?time_range=hour', { apiKey: key.json.key, direct: true })).status).toBe(200);
    expect((await api('GET', '/api/v3/analytics/summary?time_range=hour', { apiKey: key.json.key, direct: true })).status).toBe(200);
    const res = await get('/summary?time_range=hour', other.token);
    // Two keys used in this minute (the refused one authenticated too): one event each.
    expect(res.json.by_type['api_key.used'].count).toBe(2);
  });
});

describe('custom events', () => {
  it('stores a custom event once per event_id and counts it', async () => {
    const body = { events: [{ name: 'report.shared', event_id: 'evt-1', properties: { format: 'pdf' }, workflow_id: w1 }] };
    const first = await api('POST', '/api/v3/analytics/events', { token: owner.token, body });
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    expect(first.json.results).toEqual([{ name: 'report.shared', event_id: 'evt-1', outcome: 'stored' }]);
    const again = await api('POST', '/api/v3/analytics/events', { token: owner.token, body });
    expect(again.json.results).toEqual([{ name: 'report.shared', event_id: 'evt-1', outcome: 'duplicate' }]);
    const res = await get('/summary?time_range=hour', owner.token);
    expect(res.json.by_type['custom.report.shared']).toEqual({ count: 1, previous: 0, change: 1, change_pct: null });
  });

  it('refuses bad events and stores nothing', async () => {
    const post = (events: unknown[], token = owner.token) => api('POST', '/api/v3/analytics/events', { token, body: { events } });
    expectError(await post([{ name: 'x', occurred_at: '2020-01-01T00:00:00Z' }]), 400, 'bad_request');
    expectError(await post([{ name: 'Bad Name' }]), 400, 'validation_error');
    expectError(await post([{ name: 'x', role: 'admin' }]), 400, 'validation_error');
    expectError(
      await post([{ name: 'x', properties: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }]),
      400,
      'validation_error',
    );
    expectError(await post(Array.from({ length: 51 }, () => ({ name: 'x' }))), 400, 'validation_error');
    expectError(await post([{ name: 'x', workflow_id: w1 }], other.token), 404, 'not_found');
    const res = await get('/summary?time_range=hour', owner.token);
    expect(res.json.by_type['custom.x']).toBeUndefined();
  });
});

describe('counted once', () => {
  it('counts a workflow created through the API once, though an audit row records it too', async () => {
    const fresh = await registerAndLogin(unique('anfresh'));
    const wf = await api('POST', '/api/v3/workflows', { token: fresh.token, body: { name: 'once', nodes: simpleNodes } });
    expect(wf.status).toBe(201);
    const audit = await env.DB.prepare(`SELECT count(*) AS n FROM audit_log WHERE action = 'workflow.create' AND target_id = ?`)
      .bind(String(wf.json.id))
      .first<{ n: number }>();
    expect(audit?.n).toBe(1);
    const res = await get('/summary?time_range=hour', fresh.token);
    expect(res.json.by_type['workflow.created']).toMatchObject({ count: 1 });
  });

  it('stores a retried tracked write once (unique dedupe key)', async () => {
    const db = getDb(env.DB);
    const e = { type: 'custom.retried', userId: other.user.id, dedupeKey: `retry-test:${other.user.id}` };
    await db.batch([track(db, e)]);
    await db.batch([track(db, e)]);
    const key = await api('POST', '/api/v3/auth/api-keys', { token: admin.token, body: { name: 'k', scopes: ['analytics:read'] } });
    const now = Date.parse('2026-05-05T05:05:30Z');
    await trackApiKeyUse(db, key.json.id, now);
    await trackApiKeyUse(db, key.json.id, now + 10_000);
    const rows = await env.DB.prepare(
      `SELECT type, count(*) AS n FROM analytics_events WHERE dedupe_key = ? OR dedupe_key LIKE ? GROUP BY type ORDER BY type`,
    )
      .bind(e.dedupeKey, `api_key.used:${key.json.id}:%`)
      .all<{ type: string; n: number }>();
    expect(rows.results).toEqual([
      { type: 'api_key.used', n: 1 },
      { type: 'custom.retried', n: 1 },
    ]);
  });
});

describe('bad input', () => {
  it('answers 400 for an unknown range, from after to, a bad date, a too-long window or limit', async () => {
    expectError(await get('/summary?time_range=decade', owner.token), 400, 'validation_error');
    expectError(await get('/summary?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', owner.token), 400, 'bad_request');
    expectError(await get('/series?from=yesterday', owner.token), 400, 'validation_error');
    expectError(await get('/summary?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', owner.token), 400, 'bad_request');
    expectError(await get('/top?limit=500', owner.token), 400, 'validation_error');
    expectError(await get('/report?format=xml', owner.token), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/advanced/analytics/summary?time_range=decade', { token: owner.token }), 400, 'validation_error');
  });
});
