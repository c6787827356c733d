import { env } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, count, expectError, registerAndLogin, STRONG_PASSWORD, unique } from '../helpers';

/*
 * IP allow/deny lists through the real API, with CF-Connecting-IP set as Cloudflare's edge
 * would. The admin is the first user of this file; every test removes the global rules it added
 * (without a client address, so the lock-out check does not apply to the clean-up).
 */
let admin: { token: string; user: { id: number } };
const ADMIN_IP = '203.0.113.5';

beforeAll(async () => {
  admin = await registerAndLogin(unique('ipadmin'));
});

afterEach(async () => {
  const rows = await env.DB.prepare('SELECT id FROM ip_rules WHERE api_key_id IS NULL').all<{ id: number }>();
  for (const { id } of rows.results)
    expect((await api('DELETE', `/api/v3/security/ip-rules/${id}`, { token: admin.token })).status).toBe(204);
});

const from = (ip: string) => ({ 'cf-connecting-ip': ip });
async function addRule(body: Record<string, unknown>, ip = ADMIN_IP) {
  const res = await api('POST', '/api/v3/security/ip-rules', { token: admin.token, body, headers: from(ip) });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

describe('global IP rules', () => {
  it('a deny rule blocks matching addresses everywhere (also mapped IPv6 forms), once per hour in the events', async () => {
    const u = await registerAndLogin(unique('ipdeny'));
    const rule = await addRule({ action: 'deny', cidr: '198.51.100.77/24', note: 'abuse' });
    expect(rule).toMatchObject({ action: 'deny', cidr: '198.51.100.0/24', api_key_id: null, note: 'abuse', created_by: admin.user.id });

    const blocked = await api('GET', '/api/v3/auth/me', { token: u.token, headers: from('198.51.100.9') });
    expectError(blocked, 403, 'forbidden');
    expect(blocked.json.error.message).toContain('198.51.100.9');
    expectError(await api('GET', '/api/v3/auth/me', { token: u.token, headers: from('::ffff:198.51.100.9') }), 403, 'forbidden');
    // Before authentication: signing in from there is refused too, and so is an anonymous call.
    expectError(
      await api('POST', '/api/v3/auth/login', { body: { username: 'x', password: STRONG_PASSWORD }, headers: from('198.51.100.9') }),
      403,
      'forbidden',
    );
    expectError(await api('GET', '/api/v3/health', { headers: from('198.51.100.9') }), 403, 'forbidden');

    expect((await api('GET', '/api/v3/auth/me', { token: u.token, headers: from('198.51.101.9') })).status).toBe(200);
    // No client address (local tools): not filtered.
    expect((await api('GET', '/api/v3/auth/me', { token: u.token })).status).toBe(200);

    const events = await env.DB.prepare("SELECT ip, severity, details FROM security_events WHERE type = 'ip_blocked' ORDER BY id").all<{
      ip: string;
      severity: string;
      details: string;
    }>();
    // 198.51.100.9 and its mapped form: two distinct client strings, one event each for this hour.
    expect(events.results.map((e) => e.ip)).toEqual(['198.51.100.9', '::ffff:198.51.100.9']);
    expect(JSON.parse(events.results[0]!.details)).toMatchObject({ scope: 'global', verdict: 'denied' });
    expect(await count("audit_log WHERE action = 'ip_rule.create'")).toBeGreaterThanOrEqual(1);
  });

  it('an allow list admits only matching addresses, and deny still beats allow inside it', async () => {
    const u = await registerAndLogin(unique('ipallow'));
    await addRule({ action: 'allow', cidr: '203.0.113.0/24' });
    await addRule({ action: 'allow', cidr: '2001:db8:aa::/48' });
    await addRule({ action: 'deny', cidr: '203.0.113.66' });
    const me = (ip: string) => api('GET', '/api/v3/auth/me', { token: u.token, headers: from(ip) });
    expect((await me('203.0.113.200')).status).toBe(200);
    expect((await me('2001:db8:aa:1::1')).status).toBe(200);
    expect((await me('2001:DB8:AA:0:0:0:0:2')).status).toBe(200);
    const outside = await me('192.0.2.1');
    expectError(outside, 403, 'forbidden');
    expect(outside.json.error.message).toContain('allow list');
    expectError(await me('2001:db8:ab::1'), 403, 'forbidden');
    expectError(await me('203.0.113.66'), 403, 'forbidden');
    expect((await api('GET', '/api/v3/auth/me', { token: u.token })).status).toBe(200);
  });

  it('refuses a change that would lock the admin out, and stores nothing', async () => {
    const before = { rules: await count('ip_rules'), audit: await count('audit_log') };
    const refused = await api('POST', '/api/v3/security/ip-rules', {
      token: admin.token,
      body: { action: 'allow', cidr: '192.0.2.0/24' },
      headers: from(ADMIN_IP),
    });
    expectError(refused, 409, 'conflict');
    expect(refused.json.error.message).toContain(ADMIN_IP);
    expectError(
      await api('POST', '/api/v3/security/ip-rules', {
        token: admin.token,
        body: { action: 'deny', cidr: '203.0.113.0/28' },
        headers: from(ADMIN_IP),
      }),
      409,
      'conflict',
    );
    expect({ rules: await count('ip_rules'), audit: await count('audit_log') }).toEqual(before);

    // With its own address allowed first, the admin may narrow the list; removing that rule is refused.
    const own = await addRule({ action: 'allow', cidr: '203.0.113.0/24' });
    await addRule({ action: 'allow', cidr: '192.0.2.0/24' });
    expectError(
      await api('DELETE', `/api/v3/security/ip-rules/${own.id}`, { token: admin.token, headers: from(ADMIN_IP) }),
      409,
      'conflict',
    );
    expect((await api('GET', '/api/v3/auth/me', { token: admin.token, headers: from(ADMIN_IP) })).status).toBe(200);
    // From an allowed address that stays allowed, the same deletion is fine.
    expect((await api('DELETE', `/api/v3/security/ip-rules/${own.id}`, { token: admin.token, headers: from('192.0.2.10') })).status).toBe(
      204,
    );
    expect(await count("audit_log WHERE action = 'ip_rule.delete'")).toBeGreaterThanOrEqual(1);
    expectError(await api('GET', '/api/v3/auth/me', { token: admin.token, headers: from(ADMIN_IP) }), 403, 'forbidden');
  });

  it('validates rules (400, nothing stored) and lists them with filters', async () => {
    const before = { rules: await count('ip_rules'), audit: await count('audit_log') };
    for (const body of [
      { action: 'deny', cidr: 'garbage' },
      { action: 'deny', cidr: '10.0.0.0/33' },
      { action: 'deny', cidr: '2001:db8::/129' },
      { action: 'deny', cidr: '010.0.0.1' },
      { action: 'deny', cidr: 'fe80::1%eth0' },
      { action: 'block', cidr: '10.0.0.0/8' },
      { action: 'deny' },
      { action: 'deny', cidr: '10.0.0.0/8', id: 5 },
      { action: 'deny', cidr: '10.0.0.0/8', api_key_id: 'x' },
      { action: 'deny', cidr: '10.0.0.0/8', note: 'n'.repeat(201) },
    ]) {
      expectError(await api('POST', '/api/v3/security/ip-rules', { token: admin.token, body }), 400, 'validation_error');
    }
    expectError(
      await api('POST', '/api/v3/security/ip-rules', {
        token: admin.token,
        body: { action: 'deny', cidr: '10.0.0.0/8', api_key_id: 999999 },
      }),
      404,
      'not_found',
    );
    expectError(await api('DELETE', '/api/v3/security/ip-rules/999999', { token: admin.token }), 404, 'not_found');
    expect({ rules: await count('ip_rules'), audit: await count('audit_log') }).toEqual(before);

    await addRule({ action: 'deny', cidr: '10.0.0.0/8' });
    await addRule({ action: 'deny', cidr: '::ffff:172.16.0.0/108' });
    const list = await api('GET', '/api/v3/security/ip-rules?scope=global&limit=1', { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0].cidr).toBe('172.16.0.0/12');
    const next = await api('GET', `/api/v3/security/ip-rules?scope=global&limit=1&cursor=${list.json.next_cursor}`, { token: admin.token });
    expect(next.json.items.map((r: { cidr: string }) => r.cidr)).toEqual(['10.0.0.0/8']);
  });
});

describe('per-API-key IP rules', () => {
  it('the owner restricts a key; its session and other keys are unaffected; others cannot see or touch the rules', async () => {
    const owner = await registerAndLogin(unique('ipowner'));
    const other = await registerAndLogin(unique('ipother'));
    const mk = async (name: string) =>
      (await api('POST', '/api/v3/auth/api-keys', { token: owner.token, body: { name, scopes: ['profile:read'] } })).json;
    const key = await mk('office');
    const spare = await mk('spare');
    const rules = `/api/v3/auth/api-keys/${key.id}/ip-rules`;

    const allow = await api('POST', rules, { token: owner.token, body: { action: 'allow', cidr: '192.0.2.0/24' } });
    expect(allow.status, JSON.stringify(allow.json)).toBe(201);
    expect(allow.json).toMatchObject({ action: 'allow', cidr: '192.0.2.0/24', api_key_id: key.id });
    const deny = await api('POST', rules, { token: owner.token, body: { action: 'deny', cidr: '192.0.2.13' } });
    expect(deny.status).toBe(201);

    const meWithKey = (ip?: string) => api('GET', '/api/v3/auth/me', { apiKey: key.key, headers: ip ? from(ip) : {} });
    expect((await meWithKey('192.0.2.10')).status).toBe(200);
    expect((await meWithKey('::ffff:192.0.2.11')).status).toBe(200);
    const outside = await meWithKey('198.51.100.1');
    expectError(outside, 403, 'forbidden');
    expect(outside.json.error.message).toContain('API key');
    expectError(await meWithKey('192.0.2.13'), 403, 'forbidden');
    expect((await meWithKey()).status).toBe(200);
    expect((await api('GET', '/api/v3/auth/me', { token: owner.token, headers: from('198.51.100.1') })).status).toBe(200);
    expect((await api('GET', '/api/v3/auth/me', { apiKey: spare.key, headers: from('198.51.100.1') })).status).toBe(200);
    const event = await env.DB.prepare(
      "SELECT user_id, details FROM security_events WHERE type = 'ip_blocked' AND ip = '198.51.100.1'",
    ).first<{ user_id: number; details: string }>();
    expect(event!.user_id).toBe(owner.user.id);
    expect(JSON.parse(event!.details)).toMatchObject({ scope: `api_key:${key.id}`, verdict: 'not_allowed' });

    const listed = await api('GET', rules, { token: owner.token });
    expect(listed.json.items.map((r: { cidr: string }) => r.cidr)).toEqual(['192.0.2.13/32', '192.0.2.0/24']);

    // Another user: the key does not exist for them. A key cannot manage rules (session only).
    expectError(await api('GET', rules, { token: other.token }), 404, 'not_found');
    expectError(await api('POST', rules, { token: other.token, body: { action: 'allow', cidr: '0.0.0.0/0' } }), 404, 'not_found');
    expectError(await api('DELETE', `${rules}/${allow.json.id}`, { token: other.token }), 404, 'not_found');
    expectError(await api('POST', rules, { apiKey: key.key, body: { action: 'allow', cidr: '0.0.0.0/0' } }), 403, 'forbidden');
    // A rule id of another key is not found under this key.
    const spareRule = await api('POST', `/api/v3/auth/api-keys/${spare.id}/ip-rules`, {
      token: owner.token,
      body: { action: 'deny', cidr: '2001:db8::/32' },
    });
    expectError(await api('DELETE', `${rules}/${spareRule.json.id}`, { token: owner.token }), 404, 'not_found');
    expectError(await api('POST', rules, { token: owner.token, body: { action: 'allow', cidr: '300.0.0.0/8' } }), 400, 'validation_error');

    // The admin sees and can remove any key's rules.
    const adminList = await api('GET', `/api/v3/security/ip-rules?api_key_id=${key.id}`, { token: admin.token });
    expect(adminList.json.items).toHaveLength(2);
    expect((await api('DELETE', `/api/v3/security/ip-rules/${deny.json.id}`, { token: admin.token })).status).toBe(204);
    expect((await meWithKey('192.0.2.13')).status).toBe(200);
    expect((await api('DELETE', `${rules}/${allow.json.id}`, { token: owner.token })).status).toBe(204);
    expect((await meWithKey('198.51.100.1')).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action IN ('ip_rule.create', 'ip_rule.delete') AND actor_user_id = ?",
    )
      .bind(owner.user.id)
      .first<{ n: number }>();
    expect(audit!.n).toBe(4);
  });

  it("an admin can attach a rule to any user's key", async () => {
    const owner = await registerAndLogin(unique('ipkeyed'));
    const key = (await api('POST', '/api/v3/auth/api-keys', { token: owner.token, body: { name: 'k', scopes: ['profile:read'] } })).json;
    const rule = await addRule({ action: 'deny', cidr: '2001:db8:dead::/48', api_key_id: key.id });
    expect(rule.api_key_id).toBe(key.id);
    expectError(await api('GET', '/api/v3/auth/me', { apiKey: key.key, headers: from('2001:db8:dead:beef::1') }), 403, 'forbidden');
    expect((await api('GET', '/api/v3/auth/me', { apiKey: key.key, headers: from('2001:db8:beef::1') })).status).toBe(200);
  });
});
