import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, count, expectError, login, poll, productionEnv, registerAndLogin, STRONG_PASSWORD, unique } from '../helpers';
import { providerLog, saveChannel } from './notif-helpers';

/*
 * Issue 17, finding 1: who becomes admin, and who may register with which role. The first
 * administrator is made out of band (the bootstrap secret); no registration ever makes one.
 * Production's defaults are tested with production bindings over this file's database
 * (test/helpers.ts productionEnv), development's with the committed ones.
 */
const body = (username: string, extra: Record<string, unknown> = {}) => ({
  username,
  email: `${username}@example.com`,
  password: STRONG_PASSWORD,
  ...extra,
});
const register = (username: string, extra: Record<string, unknown> = {}, bindings?: Env) =>
  api('POST', '/api/v3/auth/register', { body: body(username, extra), ...(bindings ? { env: bindings } : {}) });
const bootstrap = (username: string, secret: string, bindings?: Env) =>
  api('POST', '/api/v3/auth/bootstrap', {
    headers: { 'x-bootstrap-secret': secret },
    body: body(username),
    ...(bindings ? { env: bindings } : {}),
  });

let admin: string;

describe('the first administrator', () => {
  it('is never whoever registers first: a fresh database gives the first registration the default role', async () => {
    expect(await count('users')).toBe(0);
    const first = await register(unique('early'));
    expect(first.status).toBe(201);
    expect(first.json.role).toBe('editor'); // development's default role; was 'admin'
    expect(await count("users WHERE role = 'admin'")).toBe(0);
  });

  it('is made once with the bootstrap secret; a wrong secret, and any later attempt, are refused', async () => {
    expectError(await bootstrap(unique('guess'), 'not-the-secret'), 403, 'forbidden');
    expect(await count("users WHERE role = 'admin'")).toBe(0);
    const name = unique('root');
    const made = await bootstrap(name, env.BOOTSTRAP_SECRET);
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    expect(made.json).toMatchObject({ username: name, role: 'admin' });
    const again = await bootstrap(unique('second'), env.BOOTSTRAP_SECRET);
    expectError(again, 409, 'conflict');
    expect(await count("users WHERE role = 'admin'")).toBe(1);
    admin = (await login(name)).access_token;
  });

  it('is off without BOOTSTRAP_SECRET, and a development secret in production is a configuration fault', async () => {
    expectError(await bootstrap(unique('x'), 'anything', { ...env, BOOTSTRAP_SECRET: '' } as Env), 403, 'forbidden');
    const devSecretInProd = productionEnv({ BOOTSTRAP_SECRET: env.BOOTSTRAP_SECRET });
    expectError(await bootstrap(unique('x'), env.BOOTSTRAP_SECRET, devSecretInProd), 503, 'service_unavailable');
  });

  it('cannot be asked for in a registration body', async () => {
    expectError(await register(unique('sneaky'), { role: 'admin' }), 400, 'validation_error');
  });
});

describe('registration policy', () => {
  const prod = productionEnv();

  it('in production defaults to invitation only; an invite gives its own role, once', async () => {
    const settings = await api('GET', '/api/v3/auth/registration', { token: admin, env: prod });
    // The admin's token was signed with development secrets: production refuses it.
    expectError(settings, 401, 'unauthorized');

    const before = await count('users');
    const refused = await register(unique('walkin'), {}, prod);
    expectError(refused, 403, 'forbidden');
    expect(refused.json.error.message).toMatch(/invitation/);
    expect(await count('users')).toBe(before);

    expectError(
      await api('POST', '/api/v3/auth/invites', { token: admin, body: { role: 'admin' } }),
      400,
      'validation_error', // an invite can never make an admin
    );
    const invite = await api('POST', '/api/v3/auth/invites', { token: admin, body: { role: 'viewer' } });
    expect(invite.status, JSON.stringify(invite.json)).toBe(201);
    expect(invite.json).toMatchObject({ role: 'viewer', status: 'open', token: expect.stringMatching(/^dwci_/) });

    const invited = await register(unique('invited'), { invite_token: invite.json.token }, prod);
    expect(invited.status, JSON.stringify(invited.json)).toBe(201);
    expect(invited.json.role).toBe('viewer');
    expectError(await register(unique('reuse'), { invite_token: invite.json.token }, prod), 400, 'validation_error');
    const listed = await api('GET', '/api/v3/auth/invites', { token: admin });
    expect(listed.json.items[0]).toMatchObject({ id: invite.json.id, status: 'used', used_by: invited.json.id });
  });

  it('binds an invite to the address it names, and revoked invites open nothing', async () => {
    const alice = unique('alice');
    const invite = await api('POST', '/api/v3/auth/invites', {
      token: admin,
      body: { role: 'editor', email: `${alice}@example.com` },
    });
    const other = unique('mallory');
    expectError(await register(other, { invite_token: invite.json.token }, prod), 400, 'validation_error');
    const ok = await register(alice, { invite_token: invite.json.token }, prod);
    expect(ok.json).toMatchObject({ role: 'editor', email_verified: true });

    const revoked = await api('POST', '/api/v3/auth/invites', { token: admin, body: { role: 'editor' } });
    expect((await api('DELETE', `/api/v3/auth/invites/${revoked.json.id}`, { token: admin })).status).toBe(204);
    expectError(await register(unique('late'), { invite_token: revoked.json.token }, prod), 400, 'validation_error');
  });

  it('is an admin setting: open gives the configured role (never admin), closed refuses even an invite', async () => {
    expectError(
      await api('PUT', '/api/v3/auth/registration', {
        token: admin,
        body: { mode: 'open', default_role: 'admin', email_verification: false },
      }),
      400,
      'validation_error',
    );
    const invite = await api('POST', '/api/v3/auth/invites', { token: admin, body: { role: 'editor' } });
    const closed = await api('PUT', '/api/v3/auth/registration', {
      token: admin,
      body: { mode: 'closed', default_role: 'viewer', email_verification: false },
    });
    expect(closed.json).toMatchObject({ mode: 'closed', source: 'saved' });
    expectError(await register(unique('c1'), { invite_token: invite.json.token }, prod), 403, 'forbidden');
    expectError(await register(unique('c2')), 403, 'forbidden');

    await api('PUT', '/api/v3/auth/registration', {
      token: admin,
      body: { mode: 'open', default_role: 'viewer', email_verification: false },
    });
    const open = await register(unique('opener'), {}, prod);
    expect(open.json.role).toBe('viewer');
    const { user } = await registerAndLogin(unique('dev'));
    expect(user.role).toBe('viewer');
  });

  it('with email verification answers every open registration alike, and the account signs in once confirmed', async () => {
    await saveChannel(
      admin,
      'email',
      'default',
      { settings: { provider: 'resend', from: 'svc@acme.example' }, secrets: { api_key: 're_test_key_1' } },
      'global',
    );
    await api('PUT', '/api/v3/auth/registration', {
      token: admin,
      body: { mode: 'open', default_role: 'editor', email_verification: true },
    });
    const taken = await registerAndLoginWhileOpen();
    const name = unique('newbie');
    const fresh = await register(name);
    const sameEmail = await api('POST', '/api/v3/auth/register', {
      body: { username: unique('other'), email: `${taken}@example.com`, password: STRONG_PASSWORD },
    });
    const sameName = await api('POST', '/api/v3/auth/register', {
      body: { username: taken, email: `${unique('new')}@example.com`, password: STRONG_PASSWORD },
    });
    for (const res of [fresh, sameEmail, sameName]) {
      expect(res.status).toBe(202);
      expect(res.json).toEqual(fresh.json);
    }

    const [mail] = await poll(
      () => providerLog('api.resend.com', `${name}@example.com`),
      (l) => l.length > 0,
      { what: 'the verification mail' },
    );
    const token = /dwcv_[A-Za-z0-9_-]+/.exec(mail!.body)![0];
    const early = await api('POST', '/api/v3/auth/login', { body: { username: name, password: STRONG_PASSWORD } });
    expectError(early, 403, 'forbidden');
    expect(early.json.error.message).toMatch(/Confirm your email/);
    expect((await api('POST', '/api/v3/auth/email/verify', { body: { token } })).status).toBe(204);
    expectError(await api('POST', '/api/v3/auth/email/verify', { body: { token } }), 400, 'validation_error');
    expect((await login(name)).user).toMatchObject({ role: 'editor', email_verified: true });

    // The owner of the taken address is told, and nothing was created for the attempts.
    await poll(
      () => providerLog('api.resend.com', 'Someone tried to create an account'),
      (l) => l.some((r) => r.body.includes(`${taken}@example.com`)),
    );
    expect(await count(`users WHERE username = '${taken}'`)).toBe(1);
  });
});

/** An account made while registration is open without verification, then verification switched back on. */
async function registerAndLoginWhileOpen(): Promise<string> {
  const settings = (await api('GET', '/api/v3/auth/registration', { token: admin })).json;
  await api('PUT', '/api/v3/auth/registration', { token: admin, body: { ...pick(settings), email_verification: false } });
  const name = unique('taken');
  expect((await register(name)).status).toBe(201);
  await api('PUT', '/api/v3/auth/registration', { token: admin, body: pick(settings) });
  return name;
}

const pick = (s: { mode: string; default_role: string; email_verification: boolean }) => ({
  mode: s.mode,
  default_role: s.default_role,
  email_verification: s.email_verification,
});
