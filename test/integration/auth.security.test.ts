import { env } from 'cloudflare:test';
import { base64url } from 'jose';
import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';

/*
 * Forged and stale access tokens. Each is built from a genuine session (real user id and
 * session id), so the only thing wrong with it is the property under test.
 */
let userId: number;
let sessionId: string;
let validToken: string;
const secret = () => new TextEncoder().encode(env.JWT_SECRET);

function forge(opts: { alg?: string; typ?: string; iss?: string; aud?: string; exp?: number; key?: Uint8Array } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: opts.typ ?? 'at+jwt' })
    .setIssuer(opts.iss ?? 'document-workflow-chain')
    .setAudience(opts.aud ?? 'dwc-api')
    .setSubject(String(userId))
    .setJti(crypto.randomUUID())
    .setIssuedAt(now - 10)
    .setExpirationTime(opts.exp ?? now + 600)
    .sign(opts.key ?? secret());
}

beforeAll(async () => {
  const session = await registerAndLogin(unique('sec'));
  validToken = session.token;
  userId = session.user.id;
  const [, payload] = validToken.split('.');
  sessionId = JSON.parse(new TextDecoder().decode(base64url.decode(payload!))).sid;
});

describe('access token verification', () => {
  it('accepts a correctly forged control token (so the cases below fail for one reason only)', async () => {
    expect((await api('GET', '/api/v3/auth/me', { token: await forge() })).status).toBe(200);
    expect((await api('GET', '/api/v3/auth/me', { token: validToken })).status).toBe(200);
  });

  it.each([
    [
      'alg: none',
      async () =>
        new UnsecuredJWT({ sid: sessionId })
          .setIssuer('document-workflow-chain')
          .setAudience('dwc-api')
          .setSubject(String(userId))
          .setJti('x')
          .setIssuedAt()
          .setExpirationTime('10m')
          .encode(),
    ],
    ['wrong signature', async () => forge({ key: new TextEncoder().encode('another-secret-another-secret-another-secret') })],
    ['expired', async () => forge({ exp: Math.floor(Date.now() / 1000) - 5 })],
    ['wrong audience', async () => forge({ aud: 'some-other-api' })],
    ['wrong issuer', async () => forge({ iss: 'someone-else' })],
    ['wrong type', async () => forge({ typ: 'JWT' })],
    ['other HMAC algorithm', async () => forge({ alg: 'HS512' })],
    [
      'tampered payload',
      async () => {
        const [h, , s] = validToken.split('.');
        const p = base64url.encode(
          JSON.stringify({ sub: '999', sid: sessionId, jti: 'x', iat: 1, exp: 4102444800, iss: 'document-workflow-chain', aud: 'dwc-api' }),
        );
        return `${h}.${p}.${s}`;
      },
    ],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses a token with %s (401)', async (_name, make) => {
    const res = await api('GET', '/api/v3/auth/me', { token: await make() });
    expectError(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('refuses requests with no credentials, or a malformed Authorization header', async () => {
    expectError(await api('GET', '/api/v3/auth/me'), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/auth/me', { headers: { authorization: `Basic ${btoa('a:b')}` } }), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/workflows', { headers: { authorization: 'Bearer' } }), 401, 'unauthorized');
  });

  it('refuses an access token whose user id does not match its session', async () => {
    const other = await registerAndLogin(unique('sec2'));
    const now = Math.floor(Date.now() / 1000);
    const mixed = await new SignJWT({ sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setIssuer('document-workflow-chain')
      .setAudience('dwc-api')
      .setSubject(String(other.user.id))
      .setJti('x')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(secret());
    expectError(await api('GET', '/api/v3/auth/me', { token: mixed }), 401, 'unauthorized');
  });
});

describe('refresh token races and reuse', () => {
  it('lets at most one of two concurrent refreshes of one token succeed', async () => {
    const { refresh } = await registerAndLogin(unique('race'));
    const results = await Promise.all([0, 1].map(() => api('POST', '/api/v3/auth/refresh', { body: { refresh_token: refresh } })));
    // The loser is reuse, so the session ends: at most one success, possibly none surviving.
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
    for (const r of results.filter((x) => x.status !== 200)) expectError(r, 401, 'unauthorized');
  });

  it('records refresh-token reuse as one high-severity event per session', async () => {
    const { user, refresh } = await registerAndLogin(unique('reuse'));
    expect((await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: refresh } })).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expectError(await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: refresh } }), 401, 'unauthorized');
    const rows = await env.DB.prepare("SELECT severity, details FROM security_events WHERE type = 'refresh_token_reuse' AND user_id = ?")
      .bind(user.id)
      .all<{ severity: string; details: string }>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]!.severity).toBe('high');
    expect(JSON.parse(rows.results[0]!.details)).toMatchObject({ session_revoked: true });
  });
});

describe('failed sign-in bursts', () => {
  const fail = (username: string, ip: string) =>
    api('POST', '/api/v3/auth/login', { body: { username, password: 'wrong-password-xyz' }, headers: { 'cf-connecting-ip': ip } });
  const bursts = (sql: string, ...binds: unknown[]) =>
    env.DB.prepare(`SELECT severity, user_id, ip, details FROM security_events WHERE type = 'login_failure_burst' AND ${sql}`)
      .bind(...binds)
      .all<{ severity: string; user_id: number | null; ip: string; details: string }>();

  it('records one high-severity event when one account fails 5 times in 15 minutes', async () => {
    const { user } = await registerAndLogin(unique('burst'));
    for (let i = 0; i < 4; i++) expectError(await fail(user.username, '203.0.113.50'), 401, 'unauthorized');
    expect((await bursts('user_id = ?', user.id)).results).toHaveLength(0);
    for (let i = 0; i < 4; i++) expectError(await fail(user.username, '203.0.113.50'), 401, 'unauthorized');
    const rows = (await bursts('user_id = ?', user.id)).results;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ severity: 'high', ip: '203.0.113.50' });
    expect(JSON.parse(rows[0]!.details)).toMatchObject({ subject: `account:${user.username}`, failures: 5 });
  });

  it('records one event when one IP fails 20 times across accounts, unknown names included', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < 25; i++) expectError(await fail(unique('ghost'), ip), 401, 'unauthorized');
    const rows = (await bursts("json_extract(details, '$.subject') = ?", `ip:${ip}`)).results;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ severity: 'high', user_id: null, ip });
  });
});
