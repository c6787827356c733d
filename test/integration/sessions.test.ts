import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, expectError, register, snapshot, STRONG_PASSWORD, unique } from '../helpers';

/** A sign-in from a distinct "device" (user agent and client IP). */
async function signIn(username: string, device: string, ip: string) {
  const res = await api('POST', '/api/v3/auth/login', {
    body: { username, password: STRONG_PASSWORD },
    headers: { 'user-agent': device, 'cf-connecting-ip': ip },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return { access: res.json.access_token as string, refresh: res.json.refresh_token as string };
}

const me = (token: string) => api('GET', '/api/v3/auth/me', { token });
const refresh = (token: string) => api('POST', '/api/v3/auth/refresh', { body: { refresh_token: token } });

describe('sessions', () => {
  it('lists your active sessions with the current one flagged and no token material', async () => {
    const { username } = await register(unique('list'));
    const laptop = await signIn(username, 'Laptop/1.0', '203.0.113.10');
    await signIn(username, 'Phone/2.0', '203.0.113.11');
    const tablet = await signIn(username, 'Tablet/3.0', '203.0.113.12');

    const res = await api('GET', '/api/v3/auth/sessions', { token: laptop.access });
    expect(res.status).toBe(200);
    expect(res.json.items.map((s: { user_agent: string }) => s.user_agent)).toEqual(['Tablet/3.0', 'Phone/2.0', 'Laptop/1.0']);
    expect(res.json.items.map((s: { current: boolean }) => s.current)).toEqual([false, false, true]);
    expect(res.json.items[2]).toEqual({
      id: expect.any(String),
      current: true,
      created_at: expect.any(String),
      last_used_at: expect.any(String),
      expires_at: expect.any(String),
      ip: '203.0.113.10',
      user_agent: 'Laptop/1.0',
    });
    const text = JSON.stringify(res.json);
    expect(text).not.toContain(laptop.refresh);
    expect(text).not.toMatch(/dwcr_|token|hash/);

    // Keyset pages, newest first.
    const first = await api('GET', '/api/v3/auth/sessions?limit=2', { token: tablet.access });
    expect(first.json.items).toHaveLength(2);
    const second = await api('GET', `/api/v3/auth/sessions?limit=2&cursor=${first.json.next_cursor}`, { token: tablet.access });
    expect(second.json.items.map((s: { user_agent: string }) => s.user_agent)).toEqual(['Laptop/1.0']);
    expect(second.json.next_cursor).toBeNull();
    expectError(await api('GET', '/api/v3/auth/sessions?cursor=nonsense', { token: tablet.access }), 400, 'bad_request');
    expectError(await api('GET', '/api/v3/auth/sessions?limit=1000', { token: tablet.access }), 400, 'validation_error');
  });

  it("revokes one of your sessions at once; other users' sessions answer 404", async () => {
    const { username } = await register(unique('rev'));
    const a = await signIn(username, 'A', '198.51.100.1');
    const b = await signIn(username, 'B', '198.51.100.2');
    const other = await register(unique('other'));
    const o = await signIn(other.username, 'O', '198.51.100.3');

    const list = (await api('GET', '/api/v3/auth/sessions', { token: a.access })).json.items as { id: string; user_agent: string }[];
    const bId = list.find((s) => s.user_agent === 'B')!.id;
    const oId = (await api('GET', '/api/v3/auth/sessions', { token: o.access })).json.items[0].id as string;

    const before = await snapshot();
    expectError(await api('DELETE', `/api/v3/auth/sessions/${oId}`, { token: a.access }), 404, 'not_found');
    expectError(await api('DELETE', '/api/v3/auth/sessions/no-such-session', { token: a.access }), 404, 'not_found');
    expectError(await api('DELETE', `/api/v3/auth/sessions/${'x'.repeat(65)}`, { token: a.access }), 400, 'validation_error');
    expect(await snapshot()).toEqual(before);
    expect((await me(o.access)).status).toBe(200);

    expect((await api('DELETE', `/api/v3/auth/sessions/${bId}`, { token: a.access })).status).toBe(204);
    expectError(await me(b.access), 401, 'unauthorized');
    expectError(await refresh(b.refresh), 401, 'unauthorized');
    expectError(await api('DELETE', `/api/v3/auth/sessions/${bId}`, { token: a.access }), 404, 'not_found');
    expect((await me(a.access)).status).toBe(200);
    expect((await api('GET', '/api/v3/auth/sessions', { token: a.access })).json.items).toHaveLength(1);
  });

  it('logs out everywhere, the current session included, and audits it', async () => {
    const { username, id } = await register(unique('all'));
    const a = await signIn(username, 'A', '192.0.2.1');
    const b = await signIn(username, 'B', '192.0.2.2');
    const bystander = await register(unique('by'));
    const c = await signIn(bystander.username, 'C', '192.0.2.3');

    const res = await api('POST', '/api/v3/auth/logout-all', { token: a.access });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ sessions_revoked: 2, api_keys_revoked: 0 });
    for (const s of [a, b]) {
      expectError(await me(s.access), 401, 'unauthorized');
      expectError(await refresh(s.refresh), 401, 'unauthorized');
    }
    expect((await me(c.access)).status).toBe(200);
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.logout_all' AND actor_user_id = ?")
      .bind(id)
      .first('n');
    expect(audit).toBe(1);
    // A new sign-in works as before.
    expect((await me((await signIn(username, 'A', '192.0.2.1')).access)).status).toBe(200);
  });

  it('refuses API keys on session management (403)', async () => {
    const { username } = await register(unique('key'));
    const s = await signIn(username, 'K', '192.0.2.9');
    const key = (await api('POST', '/api/v3/auth/api-keys', { token: s.access, body: { name: 'k', scopes: ['profile:read'] } })).json.key;
    expectError(await api('GET', '/api/v3/auth/sessions', { apiKey: key }), 403, 'forbidden');
    expectError(await api('POST', '/api/v3/auth/logout-all', { apiKey: key }), 403, 'forbidden');
    expect((await me(s.access)).status).toBe(200);
  });
});
