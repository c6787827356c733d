import { env } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { POLICY_CACHE_TTL_MS } from '../../src/security/rate-limits';
import { api, count, expectError, registerAndLogin, unique } from '../helpers';

/*
 * Rate-limit policies through the real API: the first user of this file is the admin who edits
 * policies; every test uses its own users (and so its own limiter objects) and deletes the
 * overrides it stored, because policies apply to every subject of their kind.
 */
let admin: { token: string; user: { id: number } };
const stored: string[] = [];

beforeAll(async () => {
  admin = await registerAndLogin(unique('rladmin'));
  expect(admin.user).toMatchObject({ role: 'admin' });
});

afterEach(async () => {
  for (const name of stored.splice(0)) await api('DELETE', `/api/v3/security/rate-limits/${name}`, { token: admin.token });
});

async function putPolicy(name: string, body: Record<string, unknown>) {
  const res = await api('PUT', `/api/v3/security/rate-limits/${name}`, { token: admin.token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  if (!stored.includes(name)) stored.push(name);
  return res.json;
}

const policyHeader = (name: string, q: number, w: number) => `"${name}";q=${q};w=${w}`;
const parseRateLimit = (h: string | null) => {
  const m = /^"([a-z0-9._-]+)";r=(\d+);t=(\d+)$/.exec(h ?? '');
  return m ? { name: m[1], r: Number(m[2]), t: Number(m[3]) } : null;
};

describe('rate-limit policies', () => {
  it('admits exactly N of 3N concurrent requests, refuses the rest with 429 and the IETF headers, and the usage endpoint agrees', async () => {
    const N = 20;
    await putPolicy('test-exact', { subject: 'user', route_class: 'read', limit: N, window_seconds: 60 });
    const u = await registerAndLogin(unique('rlexact'));
    const eventsBefore = await count('security_events');

    const results = await Promise.all(Array.from({ length: 3 * N }, () => api('GET', '/api/v3/auth/me', { token: u.token })));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(N);
    expect(refused).toHaveLength(2 * N);

    for (const r of refused) {
      expectError(r, 429, 'rate_limited');
      const retry = Number(r.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
      expect(r.headers.get('ratelimit-policy')).toBe(policyHeader('test-exact', N, 60));
      expect(parseRateLimit(r.headers.get('ratelimit'))).toEqual({ name: 'test-exact', r: 0, t: retry });
      expect(r.json.error.details).toMatchObject({ policy: 'test-exact', subject: 'user', limit: N, window_seconds: 60 });
    }
    // Each admitted request saw one fewer remaining: the counts 0..N-1 each exactly once.
    const remaining = ok
      .map((r) => parseRateLimit(r.headers.get('ratelimit')))
      .map((h) => {
        expect(h?.name).toBe('test-exact');
        return h!.r;
      });
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));

    const usage = await api('GET', `/api/v3/security/rate-limits/usage?subject=user:${u.user.id}`, { token: admin.token });
    expect(usage.status, JSON.stringify(usage.json)).toBe(200);
    expect(usage.json.subject).toBe(`user:${u.user.id}`);
    const byName = Object.fromEntries(usage.json.windows.map((w: { name: string }) => [w.name, w]));
    expect(byName['test-exact']).toMatchObject({ count: N, refused: 2 * N, remaining: 0, limit: N, source: 'override' });
    // All or nothing: the refused requests were not counted in the user's other windows either.
    expect(byName['user-minute']).toMatchObject({ count: N, refused: 0, source: 'default' });
    expect(byName['user-hour']).toMatchObject({ count: N, refused: 0 });

    // A flood is one security event per subject, policy and window.
    const events = await env.DB.prepare("SELECT user_id, severity, details FROM security_events WHERE type = 'rate_limit_exceeded'").all<{
      user_id: number;
      severity: string;
      details: string;
    }>();
    expect(await count('security_events')).toBe(eventsBefore + 1);
    expect(events.results).toHaveLength(1);
    expect(events.results[0]).toMatchObject({ user_id: u.user.id, severity: 'medium' });
    expect(JSON.parse(events.results[0]!.details)).toMatchObject({ subject: `user:${u.user.id}`, policy: 'test-exact', limit: N });

    // Writes are another class: the same user can still create things.
    expect((await api('POST', '/api/v3/auth/api-keys', { token: u.token, body: { name: 'w', scopes: ['profile:read'] } })).status).toBe(
      201,
    );
  });

  it('puts the tightest default policy in the headers of ordinary responses', async () => {
    const u = await registerAndLogin(unique('rlhdr'));
    const res = await api('GET', '/api/v3/auth/me', { token: u.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-policy')).toBe(policyHeader('user-minute', 1200, 60));
    expect(parseRateLimit(res.headers.get('ratelimit'))).toMatchObject({ name: 'user-minute', r: 1199 });
    // Errors after the limiter (here a 404) carry them too.
    const missing = await api('GET', '/api/v3/workflows/999999', { token: u.token });
    expect(missing.status).toBe(404);
    expect(parseRateLimit(missing.headers.get('ratelimit'))).toMatchObject({ name: 'user-minute', r: 1198 });
  });

  it('limits the credential-less auth routes per client IP, each IP on its own', async () => {
    await putPolicy('ip-auth-minute', { subject: 'ip', route_class: 'auth', limit: 3, window_seconds: 60 });
    const ip = '198.51.100.23';
    const attempt = (from: string) =>
      api('POST', '/api/v3/auth/login', {
        body: { username: 'nobody-here', password: 'wrong-password-1' },
        headers: { 'cf-connecting-ip': from },
      });
    for (let i = 0; i < 3; i++) {
      const res = await attempt(ip);
      expectError(res, 401, 'unauthorized');
      expect(res.headers.get('ratelimit-policy')).toBe(policyHeader('ip-auth-minute', 3, 60));
    }
    const refused = await attempt(ip);
    expectError(refused, 429, 'rate_limited');
    expect(refused.json.error.details).toMatchObject({ policy: 'ip-auth-minute', subject: 'ip' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Registration is in the same class, so it is refused from that IP too.
    expectError(
      await api('POST', '/api/v3/auth/register', {
        body: { username: unique('x'), email: 'x@example.com', password: 'violet-Harbor-lantern-93' },
        headers: { 'cf-connecting-ip': ip },
      }),
      429,
      'rate_limited',
    );
    // Another address, and requests without one (local tools), are not affected.
    expectError(await attempt('198.51.100.24'), 401, 'unauthorized');
    expectError(await attempt('::ffff:198.51.100.25'), 401, 'unauthorized');
    const usage = await api('GET', `/api/v3/security/rate-limits/usage?subject=ip:${ip}`, { token: admin.token });
    expect(usage.json.windows.find((w: { name: string }) => w.name === 'ip-auth-minute')).toMatchObject({ count: 3, refused: 2 });
  });

  it("counts an API key on its own, independent of its owner's session", async () => {
    await putPolicy('api-key-minute', { subject: 'api_key', route_class: 'all', limit: 5, window_seconds: 60 });
    const u = await registerAndLogin(unique('rlkey'));
    const mk = async (name: string) =>
      (await api('POST', '/api/v3/auth/api-keys', { token: u.token, body: { name, scopes: ['profile:read'] } })).json;
    const k1 = await mk('one');
    const k2 = await mk('two');
    const results = await Promise.all(Array.from({ length: 8 }, () => api('GET', '/api/v3/auth/api-keys', { apiKey: k1.key })));
    // Keys cannot list keys (session only): refused requests count all the same.
    expect(results.filter((r) => r.status === 403)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(3);
    expectError(await api('GET', '/api/v3/auth/me', { apiKey: k1.key }), 429, 'rate_limited');
    // The owner's session and the owner's other key are counted apart.
    expect((await api('GET', '/api/v3/auth/me', { token: u.token })).status).toBe(200);
    const other = await api('GET', '/api/v3/auth/me', { apiKey: k2.key });
    expect(other.status).toBe(200);
    expect(parseRateLimit(other.headers.get('ratelimit'))).toMatchObject({ name: 'api-key-minute', r: 4 });
    const usage = await api('GET', `/api/v3/security/rate-limits/usage?subject=api_key:${k1.id}`, { token: admin.token });
    expect(usage.json.windows.find((w: { name: string }) => w.name === 'api-key-minute')).toMatchObject({ count: 5, refused: 4 });
    const userUsage = await api('GET', `/api/v3/security/rate-limits/usage?subject=user:${u.user.id}`, { token: admin.token });
    // Two key creations and one read, all with the session.
    expect(userUsage.json.windows.find((w: { name: string }) => w.name === 'user-minute').count).toBe(3);
  });

  it('applies a change at once: lowering, disabling, raising and deleting a policy', async () => {
    const u = await registerAndLogin(unique('rlchange'));
    const me = () => api('GET', '/api/v3/auth/me', { token: u.token });
    await putPolicy('test-change', { subject: 'user', route_class: 'all', limit: 2, window_seconds: 3600 });
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    const third = await me();
    expectError(third, 429, 'rate_limited');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(60);

    await putPolicy('test-change', { subject: 'user', route_class: 'all', limit: 2, window_seconds: 3600, enabled: false });
    const freed = await me();
    expect(freed.status).toBe(200);
    expect(freed.headers.get('ratelimit-policy')).not.toContain('test-change');

    // Re-enabled with a higher limit, the same window goes on counting from where it was.
    await putPolicy('test-change', { subject: 'user', route_class: 'all', limit: 4, window_seconds: 3600 });
    expect(parseRateLimit((await me()).headers.get('ratelimit'))).toEqual({ name: 'test-change', r: 1, t: expect.any(Number) });
    expect((await me()).status).toBe(200);
    expectError(await me(), 429, 'rate_limited');

    const del = await api('DELETE', '/api/v3/security/rate-limits/test-change', { token: admin.token });
    expect(del.status).toBe(200);
    expect(del.json).toEqual({ deleted: 'test-change', effective: null });
    stored.splice(stored.indexOf('test-change'), 1);
    expect((await me()).status).toBe(200);
  });

  it('a change written elsewhere (another isolate) applies once the per-isolate cache expires', async () => {
    const u = await registerAndLogin(unique('rlttl'));
    const me = () => api('GET', '/api/v3/auth/me', { token: u.token });
    expect((await me()).status).toBe(200);
    // Straight into D1, as another isolate's admin request would: this isolate's copy is not dropped.
    await env.DB.prepare(
      "INSERT INTO rate_limit_policies (name, subject, route_class, \"limit\", window_seconds) VALUES ('test-elsewhere', 'user', 'all', 1, 60)",
    ).run();
    stored.push('test-elsewhere');
    expect((await me()).status).toBe(200);
    expect((await me()).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + POLICY_CACHE_TTL_MS + 1);
      expect((await me()).status).toBe(200);
      expectError(await me(), 429, 'rate_limited');
    } finally {
      vi.useRealTimers();
    }
  });

  it('lists defaults merged with overrides, and deleting an override restores the default', async () => {
    await putPolicy('user-ai-minute', { subject: 'user', route_class: 'ai', limit: 7, window_seconds: 60 });
    const list = await api('GET', '/api/v3/security/rate-limits', { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.json.cache_ttl_seconds).toBeGreaterThan(0);
    const byName = Object.fromEntries(list.json.items.map((p: { name: string }) => [p.name, p]));
    expect(byName['user-ai-minute']).toMatchObject({ limit: 7, source: 'override', updated_by: admin.user.id });
    expect(byName['user-minute']).toMatchObject({
      subject: 'user',
      route_class: 'all',
      limit: 1200,
      window_seconds: 60,
      enabled: true,
      source: 'default',
      updated_at: null,
    });
    expect(byName['ip-minute']).toMatchObject({ subject: 'ip', limit: 3000, source: 'default' });

    const audit = await env.DB.prepare(
      "SELECT actor_user_id, target_id, details FROM audit_log WHERE action = 'rate_limit_policy.put' AND target_id = 'user-ai-minute'",
    ).first<{ actor_user_id: number; details: string }>();
    expect(audit).toMatchObject({ actor_user_id: admin.user.id });
    expect(JSON.parse(audit!.details)).toMatchObject({ before: { limit: 60 }, after: { limit: 7 } });

    const del = await api('DELETE', '/api/v3/security/rate-limits/user-ai-minute', { token: admin.token });
    expect(del.json).toMatchObject({ deleted: 'user-ai-minute', effective: { limit: 60, source: 'default' } });
    stored.splice(stored.indexOf('user-ai-minute'), 1);
    expect(await count("audit_log WHERE action = 'rate_limit_policy.delete' AND target_id = 'user-ai-minute'")).toBe(1);
    expectError(await api('DELETE', '/api/v3/security/rate-limits/user-ai-minute', { token: admin.token }), 404, 'not_found');
    expectError(await api('DELETE', '/api/v3/security/rate-limits/user-minute', { token: admin.token }), 404, 'not_found');
  });

  it('limits AI routes on their own, lower budget', async () => {
    await putPolicy('user-ai-minute', { subject: 'user', route_class: 'ai', limit: 2, window_seconds: 60 });
    const u = await registerAndLogin(unique('rlai'));
    const analyze = (prefix = '/api/v3/ai') =>
      api('POST', `${prefix}/analyze`, { token: u.token, body: { text: 'A short text to analyse.' } });
    expect((await analyze()).status).toBe(200);
    expect((await analyze()).status).toBe(200);
    const refused = await analyze();
    expectError(refused, 429, 'rate_limited');
    expect(refused.json.error.details.policy).toBe('user-ai-minute');
    expect((await analyze('/api/v3/advanced/ai')).status).toBe(429);
    expect((await api('GET', '/api/v3/auth/me', { token: u.token })).status).toBe(200);
  });

  it('refuses invalid policies with 400 and changes nothing', async () => {
    const before = { policies: await count('rate_limit_policies'), audit: await count('audit_log') };
    const good = { subject: 'user', route_class: 'all', limit: 10, window_seconds: 60 };
    const bad: [string, unknown][] = [
      ['ok-name', { ...good, limit: 0 }],
      ['ok-name', { ...good, limit: 10_000_001 }],
      ['ok-name', { ...good, limit: 1.5 }],
      ['ok-name', { ...good, window_seconds: 0 }],
      ['ok-name', { ...good, window_seconds: 86_401 }],
      ['ok-name', { ...good, subject: 'tenant' }],
      ['ok-name', { ...good, route_class: 'admin' }],
      ['ok-name', { ...good, route_class: 'auth' }],
      ['ok-name', { ...good, name: 'other' }],
      ['ok-name', { ...good, limit: '10' }],
      ['ok-name', { subject: 'user' }],
      ['Bad%20Name', good],
      ['-leading', good],
      ['x'.repeat(64), good],
    ];
    for (const [name, body] of bad)
      expectError(await api('PUT', `/api/v3/security/rate-limits/${name}`, { token: admin.token, body }), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/security/rate-limits/usage?subject=user:abc', { token: admin.token }), 400, 'validation_error');
    expectError(
      await api('GET', '/api/v3/security/rate-limits/usage?subject=ip:999.1.1.1', { token: admin.token }),
      400,
      'validation_error',
    );
    expectError(await api('GET', '/api/v3/security/rate-limits/usage', { token: admin.token }), 400, 'validation_error');
    expect({ policies: await count('rate_limit_policies'), audit: await count('audit_log') }).toEqual(before);

    const editor = await registerAndLogin(unique('rled'));
    expectError(await api('PUT', '/api/v3/security/rate-limits/user-minute', { token: editor.token, body: good }), 403, 'forbidden');
    expect(await count('rate_limit_policies')).toBe(before.policies);
  });

  it('counts IPv6 clients per /64 and reports the subject that way', async () => {
    const u = await registerAndLogin(unique('rlv6'));
    for (const ip of ['2001:db8:77:1::1', '2001:db8:77:1:ffff::2']) {
      expect((await api('GET', '/api/v3/auth/me', { token: u.token, headers: { 'cf-connecting-ip': ip } })).status).toBe(200);
    }
    const usage = await api('GET', '/api/v3/security/rate-limits/usage?subject=ip:2001:db8:77:1::abcd', { token: admin.token });
    expect(usage.json.subject).toBe('ip:2001:db8:77:1::/64');
    expect(usage.json.windows.find((w: { name: string }) => w.name === 'ip-minute')).toMatchObject({ count: 2 });
  });
});
