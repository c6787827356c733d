import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, poll, registerAndLogin, unique } from '../helpers';
import { connectWs } from '../ws-client';

/*
 * Security events as admins see them: recorded once per burst, listed with filters, pushed live
 * to admins' WebSocket connections, and counted in /api/v3/security/stats. This file's storage
 * is its own, so the figures asserted are exact.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let viewer: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  admin = await registerAndLogin(unique('evadmin'));
  viewer = await registerAndLogin(unique('evviewer'));
  expect((await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin.token, body: { role: 'viewer' } })).status).toBe(200);
});

async function eventsOf(query: string) {
  const res = await api('GET', `/api/v3/security/events?${query}`, { token: admin.token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.items as {
    id: number;
    type: string;
    severity: string;
    user_id: number | null;
    ip: string | null;
    details: Record<string, any>;
  }[];
}

describe('access-denied spikes', () => {
  it('records one high-severity event per subject and window, and alerts admins live', async () => {
    const ws = await connectWs({ token: admin.token });
    await ws.waitFor((f) => f.type === 'welcome');
    // A viewer may not create workflows: 30 refusals within the minute, 20 make a spike.
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => api('POST', '/api/v3/workflows', { token: viewer.token, body: { name: 'x', nodes: [] } })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(403));

    const events = await poll(
      () => eventsOf(`type=access_denied_spike&user_id=${viewer.user.id}`),
      (e) => e.length > 0,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'access_denied_spike',
      severity: 'high',
      user_id: viewer.user.id,
      details: { refusals: 20, window_seconds: 60 },
    });
    expect(events[0]!.details.last).toMatchObject({ code: 'forbidden', method: 'POST', path: '/api/v3/workflows' });

    const alert = await ws.waitFor(
      (f) => f.type === 'notification' && f.data?.type === 'inbox' && f.data.notification.category === 'security',
    );
    expect(alert.data.notification).toMatchObject({
      priority: 'high',
      read_at: null,
      data: { event: { id: events[0]!.id, type: 'access_denied_spike', severity: 'high', user_id: viewer.user.id } },
    });
    ws.close();
    // The alert is also in the admin's inbox, so an admin who was offline still gets it.
    const inbox = await api('GET', '/api/v3/notifications?unread=true', { token: admin.token });
    expect(inbox.json.items.filter((n: any) => n.data.event?.id === events[0]!.id)).toHaveLength(1);

    // Ten more refusals in the same window add nothing.
    await Promise.all(
      Array.from({ length: 10 }, () => api('POST', '/api/v3/workflows', { token: viewer.token, body: { name: 'x', nodes: [] } })),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await eventsOf(`type=access_denied_spike&user_id=${viewer.user.id}`)).toHaveLength(1);
  });

  it('counts anonymous refusals by client IP', async () => {
    const ip = '203.0.113.77';
    await Promise.all(Array.from({ length: 20 }, () => api('GET', '/api/v3/workflows', { headers: { 'cf-connecting-ip': ip } })));
    const events = await poll(
      () => eventsOf(`type=access_denied_spike&ip=${ip}`),
      (e) => e.length > 0,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ user_id: null, ip, details: { last: { code: 'unauthorized' } } });
  });
});

describe('GET /api/v3/security/events', () => {
  it('filters by minimum severity and time, and pages newest first', async () => {
    const now = Date.now();
    const rows = [
      ['mfa_failure', 'medium'],
      ['password_changed', 'low'],
      ['refresh_token_reuse', 'high'],
      ['rate_limit_exceeded', 'medium'],
      ['ip_blocked', 'critical'],
    ] as const;
    for (const [type, severity] of rows) {
      await env.DB.prepare('INSERT INTO security_events (at, type, severity, user_id, ip, details) VALUES (?, ?, ?, ?, ?, ?)')
        .bind(now - 1000, type, severity, 999, '198.51.100.1', '{}')
        .run();
    }
    const high = await eventsOf('user_id=999&severity=high');
    expect(high.map((e) => e.type)).toEqual(['ip_blocked', 'refresh_token_reuse']);
    expect((await eventsOf('user_id=999&severity=low')).map((e) => e.type)).toEqual([
      'ip_blocked',
      'rate_limit_exceeded',
      'refresh_token_reuse',
      'password_changed',
      'mfa_failure',
    ]);
    expect(await eventsOf(`user_id=999&from=${new Date(now).toISOString()}`)).toEqual([]);
    expect(await eventsOf(`user_id=999&to=${now - 2000}`)).toEqual([]);

    const first = await api('GET', '/api/v3/security/events?user_id=999&limit=3', { token: admin.token });
    expect(first.json.items).toHaveLength(3);
    const second = await api('GET', `/api/v3/security/events?user_id=999&limit=3&cursor=${first.json.next_cursor}`, { token: admin.token });
    expect(second.json.items.map((e: { type: string }) => e.type)).toEqual(['password_changed', 'mfa_failure']);
    expect(second.json.next_cursor).toBeNull();
  });

  it('refuses bad filters with 400 and non-admins with 403', async () => {
    expectError(await api('GET', '/api/v3/security/events?severity=extreme', { token: admin.token }), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/security/events?from=yesterday', { token: admin.token }), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/security/events?limit=1000', { token: admin.token }), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/security/events', { token: viewer.token }), 403, 'forbidden');
    expectError(await api('GET', '/api/v3/security/stats', { token: viewer.token }), 403, 'forbidden');
  });
});

describe('GET /api/v3/security/stats', () => {
  it('counts what is stored', async () => {
    const name = unique('statsuser');
    const u = await registerAndLogin(name);
    for (let i = 0; i < 3; i++)
      expect((await api('POST', '/api/v3/auth/login', { body: { username: name, password: 'wrong-password-123' } })).status).toBe(401);
    await api('POST', '/api/v3/auth/api-keys', { token: u.token, body: { name: 'k', scopes: ['workflows:read'] } });

    const res = await api('GET', '/api/v3/security/stats', { token: admin.token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const s = res.json;
    const q = async (sql: string) => Object.values((await env.DB.prepare(sql).first()) as Record<string, number>)[0];
    expect(s.logins.failed).toBe(await q(`SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'failure'`));
    expect(s.logins.failed).toBeGreaterThanOrEqual(3);
    expect(s.logins.succeeded).toBe(await q(`SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'success'`));
    expect(s.sessions.active).toBe(await q('SELECT count(*) FROM sessions WHERE revoked_at IS NULL'));
    expect(s.users).toMatchObject({ total: await q('SELECT count(*) FROM users'), admins: 1, mfa_enabled: 0, mfa_adoption: 0 });
    expect(s.api_keys.active).toBe(await q('SELECT count(*) FROM api_keys WHERE revoked_at IS NULL'));
    expect(s.events.total).toBe(await q(`SELECT count(*) FROM security_events WHERE at >= ${Date.now() - 86_400_000}`));
    expect(s.events.by_severity.high).toBe(
      await q(`SELECT count(*) FROM security_events WHERE severity = 'high' AND at >= ${Date.now() - 86_400_000}`),
    );
    expect(s.events.recent_alerts.every((e: { severity: string }) => ['high', 'critical'].includes(e.severity))).toBe(true);
    expect(s.audit.entries).toBe(await q('SELECT count(*) FROM audit_log'));
  });
});
