import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, snapshot, STRONG_PASSWORD, unique } from '../helpers';

/*
 * Issue 18, item 7: the administrators' surface at /api/v3/admin. The first account of this file
 * is its database's administrator; the second is an editor.
 */
let admin: string;
let editor: string;

beforeAll(async () => {
  admin = (await registerAndLogin(unique('adm'))).token;
  editor = (await registerAndLogin(unique('ed'))).token;
});

const OPERATIONS = [
  ['GET', '/api/v3/admin'],
  ['GET', '/api/v3/admin/config'],
  ['PATCH', '/api/v3/admin/config'],
  ['POST', '/api/v3/admin/maintenance/purge'],
  ['POST', '/api/v3/admin/maintenance/reindex'],
] as const;
const bodyFor = (method: string) => (method === 'GET' ? {} : { body: {} });

const audited = async (action: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM audit_log WHERE action = ?').bind(action).first<{ n: number }>())!.n;

describe('admin access', () => {
  it('refuses every operation without credentials (401) and to a non-administrator (403), writing nothing', async () => {
    const before = await snapshot();
    for (const [method, path] of OPERATIONS) {
      expectError(await api(method, path, bodyFor(method)), 401, 'unauthorized');
      expectError(await api(method, path, { token: editor, ...bodyFor(method) }), 403, 'forbidden');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('admits an administrator to every operation', async () => {
    for (const [method, path] of OPERATIONS) {
      const res = await api(method, path, { token: admin, ...bodyFor(method) });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBe(200);
    }
  });

  it('keeps /api/v3/admin/errors working beside the new routes', async () => {
    const res = await api('GET', '/api/v3/admin/errors', { token: admin });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ items: expect.any(Array) });
  });
});

describe('GET /api/v3/admin', () => {
  it('lists the operations only administrators may call, read from the routes themselves', async () => {
    const res = await api('GET', '/api/v3/admin', { token: admin });
    const keys = res.json.operations.map((o: { method: string; path: string }) => `${o.method} ${o.path}`);
    for (const [method, path] of OPERATIONS) expect(keys).toContain(`${method} ${path}`);
    expect(keys).toEqual(
      expect.arrayContaining(['GET /api/v3/admin/errors', 'PUT /api/v3/auth/registration', 'POST /api/v3/security/audit/retention']),
    );
    // Nothing an editor may call.
    expect(keys).not.toContain('GET /api/v3/workflows');
    expect(res.json.operations.find((o: { path: string }) => o.path === '/api/v3/admin/maintenance/purge')).toMatchObject({
      scope: 'security:admin',
      summary: expect.stringContaining('retention purge'),
    });
  });
});

describe('GET /api/v3/admin/config', () => {
  it('shows the settings in force and whether each secret is set, never a secret value', async () => {
    const res = await api('GET', '/api/v3/admin/config', { token: admin });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      environment: 'development',
      vars: { AI_PROVIDER: env.AI_PROVIDER, AI_FALLBACK_PROVIDERS: env.AI_FALLBACK_PROVIDERS, ENVIRONMENT: 'development' },
      secrets: { JWT_SECRET: true, PASSWORD_PEPPER: true, ENCRYPTION_KEYS: true, BOOTSTRAP_SECRET: true, ANTHROPIC_API_KEY: false },
      secrets_problem: null,
      registration: { mode: 'open', default_role: 'editor', email_verification: false, source: 'default' },
      ai: { provider: env.AI_PROVIDER, configured: { local: true, anthropic: false } },
      editable: ['registration'],
    });
    expect(res.json.ai.chain[0]).toBe(env.AI_PROVIDER);
    expect(res.json.ai.chain).toContain('local');
    const body = JSON.stringify(res.json);
    // The .dev.vars secrets, and the test configuration's OpenAI key and endpoint (vitest.config.ts).
    const bindings: Record<string, unknown> = { ...env };
    for (const name of [
      'JWT_SECRET',
      'PASSWORD_PEPPER',
      'ENCRYPTION_KEYS',
      'BOOTSTRAP_SECRET',
      'HEALTH_CHECK_SECRET',
      'OPENAI_API_KEY',
      'OPENAI_BASE_URL',
    ]) {
      const value = String(bindings[name]);
      expect(res.json.secrets[name], name).toBe(true);
      expect(value.length, name).toBeGreaterThanOrEqual(8);
      expect(body, name).not.toContain(value);
      // Nor a recognisable part of one (the key material after ENCRYPTION_KEYS' id, say).
      for (const part of value.split(/[:,]/)) if (part.length >= 8) expect(body, name).not.toContain(part);
    }
  });
});

describe('PATCH /api/v3/admin/config', () => {
  it('changes the registration policy, keeps the fields left out, and audits the change', async () => {
    const audits = await audited('auth.registration_settings');
    const res = await api('PATCH', '/api/v3/admin/config', { token: admin, body: { registration: { mode: 'closed' } } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.registration).toEqual({ mode: 'closed', default_role: 'editor', email_verification: false, source: 'saved' });
    expect(await audited('auth.registration_settings')).toBe(audits + 1);
    // It is the policy registration applies.
    const name = unique('late');
    const refused = await api('POST', '/api/v3/auth/register', {
      body: { username: name, email: `${name}@example.com`, password: STRONG_PASSWORD },
    });
    expect(refused.status).toBe(403);
    const seen = await api('GET', '/api/v3/auth/registration', { token: admin });
    expect(seen.json).toMatchObject({ mode: 'closed', source: 'saved' });

    const back = await api('PATCH', '/api/v3/admin/config', { token: admin, body: { registration: { mode: 'open' } } });
    expect(back.json.registration).toMatchObject({ mode: 'open', default_role: 'editor' });
  });

  it('refuses what is not editable (400) and an admin role for open registration, changing nothing', async () => {
    const before = await snapshot();
    for (const body of [
      { vars: { LOG_LEVEL: 'debug' } },
      { registration: { mode: 'open', default_role: 'admin' } },
      { registration: { mode: 'sometimes' } },
      { registration: { mode: 'open', extra: true } },
    ]) {
      expectError(await api('PATCH', '/api/v3/admin/config', { token: admin, body }), 400, 'validation_error');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('changes nothing for an empty body', async () => {
    const audits = await audited('auth.registration_settings');
    const res = await api('PATCH', '/api/v3/admin/config', { token: admin, body: {} });
    expect(res.status).toBe(200);
    expect(await audited('auth.registration_settings')).toBe(audits);
  });
});

describe('POST /api/v3/admin/maintenance/purge', () => {
  it('runs the retention purge now: an expired session goes, a live one stays; audited', async () => {
    const sessions = await env.DB.prepare('SELECT id FROM sessions WHERE revoked_at IS NULL ORDER BY created_at DESC LIMIT 2').all<{
      id: string;
    }>();
    const [expired, live] = [`${unique('s')}-expired`, sessions.results[0]!.id];
    const userId = (await env.DB.prepare('SELECT id FROM users ORDER BY id LIMIT 1').first<{ id: number }>())!.id;
    await env.DB.prepare('INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .bind(expired, userId, Date.now() - 10 * 86_400_000, Date.now() - 86_400_000)
      .run();
    const audits = await audited('admin.purge');

    const res = await api('POST', '/api/v3/admin/maintenance/purge', { token: admin });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.deleted.sessions).toBeGreaterThanOrEqual(1);
    expect(res.json.deleted).toHaveProperty('run_objects');
    expect(res.json.total).toBe(Object.values(res.json.deleted as Record<string, number>).reduce((a, n) => a + n, 0));
    const left = async (id: string) =>
      (await env.DB.prepare('SELECT count(*) AS n FROM sessions WHERE id = ?').bind(id).first<{ n: number }>())!.n;
    expect(await left(expired)).toBe(0);
    expect(await left(live)).toBe(1);
    expect(await audited('admin.purge')).toBe(audits + 1);
  });
});

describe('POST /api/v3/admin/maintenance/reindex', () => {
  it('rebuilds the search index: a document missing from it is found again', async () => {
    const word = `zephyrine${Date.now().toString(36)}`;
    const created = await api('POST', '/api/v3/documents', {
      token: admin,
      body: { title: 'Reindex me', content: `A note about ${word}.` },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const search = async () =>
      (await api('GET', `/api/v3/documents?q=${word}`, { token: admin })).json.items.map((d: { id: number }) => d.id);
    expect(await search()).toEqual([created.json.id]);

    // Drift, as a write around the triggers leaves it: the row is in the table, not in the index.
    const row = (await env.DB.prepare('SELECT title, content FROM documents WHERE id = ?').bind(created.json.id).first<{
      title: string;
      content: string;
    }>())!;
    await env.DB.prepare("INSERT INTO documents_fts(documents_fts, rowid, title, content) VALUES ('delete', ?, ?, ?)")
      .bind(created.json.id, row.title, row.content)
      .run();
    expect(await search()).toEqual([]);

    const audits = await audited('admin.reindex');
    const res = await api('POST', '/api/v3/admin/maintenance/reindex', { token: admin });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const documents = (await env.DB.prepare('SELECT count(*) AS n FROM documents').first<{ n: number }>())!.n;
    expect(res.json.indexes).toEqual([
      { index: 'documents_fts', table: 'documents', rows: documents },
      { index: 'knowledge_chunks_fts', table: 'knowledge_chunks', rows: expect.any(Number) },
    ]);
    expect(await search()).toEqual([created.json.id]);
    expect(await audited('admin.reindex')).toBe(audits + 1);
  });
});
