import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { MFA_IP_POLICY } from '../../src/auth/mfa';
import { limiter } from '../../src/lib/limits';
import { base32Decode, totp } from '../../src/security/totp';
import { api, count, expectError, registerAndLogin, STRONG_PASSWORD, unique } from '../helpers';

/*
 * TOTP second factor through the real API. Codes are computed here from the secret the API
 * hands out. The server accepts the current step and one either side, and each step once, in
 * increasing order; so each user takes at most two codes, at offsets 0 and +1 from "now", which
 * stay valid even if a 30-second boundary passes between computing and checking them. More
 * codes come from more users, or from recovery codes.
 */
const code = (secret: string, offsetSteps = 0) => totp(base32Decode(secret), Date.now() / 1000 + offsetSteps * 30);

async function enableMfa(token: string) {
  const enroll = await api('POST', '/api/v3/auth/mfa/enroll', { token });
  expect(enroll.status, JSON.stringify(enroll.json)).toBe(201);
  const secret: string = enroll.json.secret;
  const confirm = await api('POST', '/api/v3/auth/mfa/confirm', { token, body: { code: await code(secret, 0) } });
  expect(confirm.status, JSON.stringify(confirm.json)).toBe(200);
  return { secret, recovery: confirm.json.recovery_codes as string[], enroll: enroll.json };
}

async function challenge(username: string, path = '/api/v3/auth/login') {
  const res = await api('POST', path, { body: { username, password: STRONG_PASSWORD } });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  expect(res.json).toEqual({ mfa_required: true, challenge_token: expect.stringMatching(/^dwcm_/), expires_in: 300 });
  return res.json.challenge_token as string;
}

const verify = (body: Record<string, unknown>) => api('POST', '/api/v3/auth/mfa/verify', { body });

const mfaTables = [
  'users',
  'sessions',
  'refresh_tokens',
  'user_mfa',
  'mfa_recovery_codes',
  'login_challenges',
  'audit_log',
  'security_events',
];
const tableCounts = async () => Object.fromEntries(await Promise.all(mfaTables.map(async (t) => [t, await count(t)] as const)));
const events = async (type: string, userId: number) =>
  (
    await env.DB.prepare('SELECT severity, details FROM security_events WHERE type = ? AND user_id = ?')
      .bind(type, userId)
      .all<{ severity: string; details: string }>()
  ).results;

const seenSecrets: string[] = [];

describe('MFA enrolment and sign-in', () => {
  it('enroll → confirm → sign-in needs the second factor → verify; a code is accepted once', async () => {
    const { user, token } = await registerAndLogin(unique('mfa'));
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json).toEqual({
      enabled: false,
      pending: false,
      enabled_at: null,
      recovery_codes_remaining: 0,
    });

    const enroll = await api('POST', '/api/v3/auth/mfa/enroll', { token });
    expect(enroll.status).toBe(201);
    const secret: string = enroll.json.secret;
    seenSecrets.push(secret);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(enroll.json.otpauth_uri).toBe(
      `otpauth://totp/Document%20Workflow%20Chain:${user.username}?secret=${secret}&issuer=Document%20Workflow%20Chain&algorithm=SHA1&digits=6&period=30`,
    );
    expect(enroll.json.qr_svg).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(atob(enroll.json.qr_svg.split(',')[1])).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"><rect .*<path fill="black" d="M.*"\/><\/svg>$/,
    );
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json).toMatchObject({ enabled: false, pending: true });

    // Stored sealed, never as the base32 secret.
    const stored = await env.DB.prepare('SELECT secret_enc FROM user_mfa WHERE user_id = ?').bind(user.id).first<{ secret_enc: string }>();
    expect(stored!.secret_enc).toMatch(/^enc:[^:]+:[^:]+:[^:]+$/);
    expect(stored!.secret_enc).not.toContain(secret);

    // Pending enrolment is not enforced yet.
    expect(
      (await api('POST', '/api/v3/auth/login', { body: { username: user.username, password: STRONG_PASSWORD } })).json.access_token,
    ).toEqual(expect.any(String));

    const before = await count('mfa_recovery_codes');
    const wrong = await api('POST', '/api/v3/auth/mfa/confirm', { token, body: { code: await code(secret, -5) } });
    expectError(wrong, 400, 'validation_error');
    expect(wrong.json.error.details[0]).toMatchObject({ path: ['code'], code: 'invalid_code' });
    expect(await count('mfa_recovery_codes')).toBe(before);

    const confirm = await api('POST', '/api/v3/auth/mfa/confirm', { token, body: { code: await code(secret, 0) } });
    expect(confirm.status).toBe(200);
    const recovery: string[] = confirm.json.recovery_codes;
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    for (const r of recovery) expect(r).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    const hashes = (
      await env.DB.prepare('SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ?').bind(user.id).all<{ code_hash: string }>()
    ).results;
    expect(hashes).toHaveLength(10);
    for (const h of hashes) expect(h.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(hashes)).not.toMatch(new RegExp(recovery.map((r) => r.replace('-', '-?')).join('|')));
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json).toMatchObject({
      enabled: true,
      pending: false,
      enabled_at: expect.any(String),
      recovery_codes_remaining: 10,
    });
    expect(await events('mfa_enabled', user.id)).toEqual([expect.objectContaining({ severity: 'low' })]);

    // Enrolling again while enabled would swap the second factor: refused.
    expectError(await api('POST', '/api/v3/auth/mfa/enroll', { token }), 409, 'conflict');

    // Sign-in now answers a challenge (on the seeds' path too), and no tokens.
    await challenge(user.username, '/api/v3/security/auth/login');
    const ch = await challenge(user.username);
    const next = await code(secret, 1);
    const signedIn = await verify({ challenge_token: ch, code: next });
    expect(signedIn.status, JSON.stringify(signedIn.json)).toBe(200);
    expect(signedIn.json).toMatchObject({ token_type: 'Bearer', user: { id: user.id } });
    expect((await api('GET', '/api/v3/auth/me', { token: signedIn.json.access_token })).status).toBe(200);

    // The challenge is used up, and the same code (or the older one) is refused on a new challenge.
    expectError(await verify({ challenge_token: ch, code: next }), 401, 'unauthorized');
    const ch2 = await challenge(user.username);
    expectError(await verify({ challenge_token: ch2, code: next }), 401, 'unauthorized');
    expectError(await verify({ challenge_token: ch2, code: await code(secret, 0) }), 401, 'unauthorized');
  });

  it('accepts a recovery code once, kills a challenge after 5 tries, and records MFA failures', async () => {
    const { user, token } = await registerAndLogin(unique('rec'));
    const { recovery, secret } = await enableMfa(token);
    seenSecrets.push(secret);

    // Case and the dash do not matter.
    const ok = await verify({
      challenge_token: await challenge(user.username),
      recovery_code: recovery[0]!.replace('-', '').toUpperCase(),
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(await events('recovery_code_used', user.id)).toEqual([expect.objectContaining({ severity: 'medium' })]);
    expectError(await verify({ challenge_token: await challenge(user.username), recovery_code: recovery[0]! }), 401, 'unauthorized');
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json.recovery_codes_remaining).toBe(9);

    const ch = await challenge(user.username);
    for (let i = 0; i < 5; i++) expectError(await verify({ challenge_token: ch, code: await code(secret, -10 - i) }), 401, 'unauthorized');
    // Dead now, even for a good factor.
    expectError(await verify({ challenge_token: ch, recovery_code: recovery[1]! }), 401, 'unauthorized');
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json.recovery_codes_remaining).toBe(9);

    // Six wrong factors within the window: one burst event, not six.
    expect(await events('mfa_failure', user.id)).toEqual([expect.objectContaining({ severity: 'medium' })]);
    const failures = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE action = 'mfa.verify' AND outcome = 'failure' AND actor_user_id = ?",
    )
      .bind(user.id)
      .first<{ n: number }>();
    expect(failures!.n).toBe(6);
  });

  it('limits code attempts per account with 429 and the RateLimit headers', async () => {
    const { user, token } = await registerAndLogin(unique('lim'));
    const { secret, recovery } = await enableMfa(token);
    seenSecrets.push(secret);
    for (let round = 0; round < 2; round++) {
      const ch = await challenge(user.username);
      for (let i = 0; i < 5; i++)
        expectError(await verify({ challenge_token: ch, code: await code(secret, -10 - i) }), 401, 'unauthorized');
    }
    const limited = await verify({ challenge_token: await challenge(user.username), recovery_code: recovery[0]! });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-policy')).toContain('mfa-account');
    // The refused attempt used nothing up.
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json.recovery_codes_remaining).toBe(10);
  });

  it('limits code attempts per client IP across accounts', async () => {
    const { user, token } = await registerAndLogin(unique('iplim'));
    const { secret, recovery } = await enableMfa(token);
    seenSecrets.push(secret);
    const ip = '203.0.113.99';
    // Other accounts' attempts from this IP used up its budget (counted here directly: the same
    // RateLimiter object the endpoint consults).
    const counter = limiter(env, `mfa:ip:${ip}`);
    for (let i = 0; i < MFA_IP_POLICY.limit; i++) await counter.hit(MFA_IP_POLICY.limit, MFA_IP_POLICY.windowSeconds * 1000);
    const ch = await challenge(user.username);
    const limited = await api('POST', '/api/v3/auth/mfa/verify', {
      body: { challenge_token: ch, recovery_code: recovery[0] },
      headers: { 'cf-connecting-ip': ip },
    });
    expectError(limited, 429, 'rate_limited');
    expect(limited.json.error.details).toMatchObject({ policy: 'mfa-ip' });
    // From another address the same account is fine.
    const ok = await api('POST', '/api/v3/auth/mfa/verify', {
      body: { challenge_token: ch, recovery_code: recovery[0] },
      headers: { 'cf-connecting-ip': '203.0.113.100' },
    });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
  });

  it('lets at most one of two concurrent uses of one code, or one recovery code, through', async () => {
    const { user, token } = await registerAndLogin(unique('race'));
    const { secret, recovery } = await enableMfa(token);
    seenSecrets.push(secret);
    const [a, b] = await Promise.all([challenge(user.username), challenge(user.username)]);
    const shared = await code(secret, 1);
    const totpRace = await Promise.all([verify({ challenge_token: a, code: shared }), verify({ challenge_token: b, code: shared })]);
    expect(totpRace.map((r) => r.status).sort()).toEqual([200, 401]);

    const [c, d] = await Promise.all([challenge(user.username), challenge(user.username)]);
    const recoveryRace = await Promise.all([
      verify({ challenge_token: c, recovery_code: recovery[0]! }),
      verify({ challenge_token: d, recovery_code: recovery[0]! }),
    ]);
    expect(recoveryRace.map((r) => r.status).sort()).toEqual([200, 401]);

    // And one challenge yields at most one session, whatever factors arrive with it.
    const e = await challenge(user.username);
    const sameChallenge = await Promise.all([
      verify({ challenge_token: e, recovery_code: recovery[1]! }),
      verify({ challenge_token: e, recovery_code: recovery[2]! }),
    ]);
    expect(sameChallenge.filter((r) => r.status === 200)).toHaveLength(1);
  });
});

describe('MFA management', () => {
  it('disables MFA only with the password and a code, and replaces recovery codes with a code', async () => {
    const { user, token } = await registerAndLogin(unique('dis'));
    const { secret, recovery } = await enableMfa(token);
    seenSecrets.push(secret);

    const regenerated = await api('POST', '/api/v3/auth/mfa/recovery-codes', { token, body: { code: await code(secret, 1) } });
    expect(regenerated.status).toBe(200);
    const fresh: string[] = regenerated.json.recovery_codes;
    expect(fresh).toHaveLength(10);
    expect(fresh.some((r) => recovery.includes(r))).toBe(false);
    expectError(
      await api('POST', '/api/v3/auth/mfa/recovery-codes', { token, body: { code: await code(secret, 1) } }),
      400,
      'validation_error',
    );

    const before = await tableCounts();
    const wrongPassword = await api('POST', '/api/v3/auth/mfa/disable', {
      token,
      body: { password: 'not-my-password-42', recovery_code: fresh[0] },
    });
    expectError(wrongPassword, 400, 'validation_error');
    expect(wrongPassword.json.error.details[0]).toMatchObject({ path: ['password'], code: 'incorrect_password' });
    expectError(await api('POST', '/api/v3/auth/mfa/disable', { token, body: { password: STRONG_PASSWORD } }), 400, 'validation_error');
    // An old (replaced) recovery code is no factor any more.
    const oldCode = await api('POST', '/api/v3/auth/mfa/disable', {
      token,
      body: { password: STRONG_PASSWORD, recovery_code: recovery[0] },
    });
    expect(oldCode.json.error.details[0]).toMatchObject({ code: 'invalid_code' });
    const after = await tableCounts();
    // Only the two refusals' audit rows were written: MFA and its codes are untouched.
    expect({ ...after, audit_log: after.audit_log! - 2 }).toEqual(before);
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json).toMatchObject({ enabled: true, recovery_codes_remaining: 10 });

    expect(
      (await api('POST', '/api/v3/auth/mfa/disable', { token, body: { password: STRONG_PASSWORD, recovery_code: fresh[0] } })).status,
    ).toBe(204);
    expect((await api('GET', '/api/v3/auth/mfa', { token })).json).toEqual({
      enabled: false,
      pending: false,
      enabled_at: null,
      recovery_codes_remaining: 0,
    });
    expect(await env.DB.prepare('SELECT count(*) AS n FROM mfa_recovery_codes WHERE user_id = ?').bind(user.id).first('n')).toBe(0);
    expect(await events('mfa_disabled', user.id)).toEqual([expect.objectContaining({ severity: 'medium' })]);
    const signIn = await api('POST', '/api/v3/auth/login', { body: { username: user.username, password: STRONG_PASSWORD } });
    expect(signIn.json.access_token).toEqual(expect.any(String));
    expectError(
      await api('POST', '/api/v3/auth/mfa/disable', { token, body: { password: STRONG_PASSWORD, recovery_code: fresh[1] } }),
      409,
      'conflict',
    );
  });

  it('refuses bad input with 4xx JSON and changes nothing', async () => {
    const { user, token } = await registerAndLogin(unique('bad'));
    const admin = await registerAndLogin(unique('badadm'));
    const key = (await api('POST', '/api/v3/auth/api-keys', { token: admin.token, body: { name: 'k', scopes: ['profile:read'] } })).json
      .key;
    const before = await tableCounts();
    expectError(await verify({}), 400, 'validation_error');
    expectError(await verify({ challenge_token: 'dwcm_x', code: '12345' }), 400, 'validation_error');
    expectError(await verify({ challenge_token: 'dwcm_x', code: '123456', recovery_code: 'abcde-fghij' }), 400, 'validation_error');
    expectError(await verify({ challenge_token: 'dwcm_x', code: '123456', user_id: user.id }), 400, 'validation_error');
    expectError(await verify({ challenge_token: 'dwcm_not-a-challenge', code: '123456' }), 401, 'unauthorized');
    expectError(await api('POST', '/api/v3/auth/mfa/verify', { body: '{"challenge_token":' }), 400, 'bad_request');
    expectError(await api('POST', '/api/v3/auth/mfa/confirm', { token, body: { code: 'abcdef' } }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/auth/mfa/confirm', { token, body: { code: '123456' } }), 409, 'conflict'); // nothing pending
    expectError(await api('POST', '/api/v3/auth/mfa/recovery-codes', { token, body: { code: '123456' } }), 409, 'conflict'); // not enabled
    expectError(
      await api('POST', '/api/v3/auth/mfa/disable', { token, body: { password: 'x', code: '123456', extra: true } }),
      400,
      'validation_error',
    );
    expectError(await api('POST', '/api/v3/auth/mfa/enroll'), 401, 'unauthorized');
    expectError(await api('POST', '/api/v3/auth/mfa/enroll', { apiKey: key }), 403, 'forbidden');
    expectError(await api('GET', '/api/v3/auth/mfa', { apiKey: key }), 403, 'forbidden');
    expect(await tableCounts()).toEqual(before);
  });

  it('leaves no TOTP secret in plaintext in D1', async () => {
    expect(seenSecrets.length).toBeGreaterThanOrEqual(4);
    const rows = (await env.DB.prepare('SELECT * FROM user_mfa').all()).results;
    const dump = JSON.stringify(rows) + JSON.stringify((await env.DB.prepare('SELECT * FROM audit_log').all()).results);
    for (const s of seenSecrets) {
      expect(dump).not.toContain(s);
      expect(dump).not.toContain(s.toLowerCase());
    }
  });
});
