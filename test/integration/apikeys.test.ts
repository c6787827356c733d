import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, simpleNodes, snapshot, unique } from '../helpers';

describe('API keys', () => {
  it('create (shown once) → use as Bearer and X-API-Key → list without secret → revoke', async () => {
    const { token } = await registerAndLogin(unique('key'));
    const created = await api('POST', '/api/v3/auth/api-keys', {
      token,
      body: { name: 'ci', scopes: ['workflows:read', 'workflows:write'] },
    });
    expect(created.status).toBe(201);
    const key: string = created.json.key;
    expect(key).toMatch(/^dwc_[A-Za-z0-9_-]{43}$/);
    expect(created.json.prefix).toBe(key.slice(0, 12));

    // Stored only as a hash.
    const stored = await env.DB.prepare('SELECT key_hash FROM api_keys WHERE id = ?').bind(created.json.id).first<{ key_hash: string }>();
    expect(stored!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await env.DB.prepare('SELECT * FROM api_keys').all())).not.toContain(key);

    const viaBearer = await api('POST', '/api/v3/workflows', { token: key, body: { name: 'by key', nodes: simpleNodes } });
    expect(viaBearer.status).toBe(201);
    const viaHeader = await api('GET', `/api/v3/workflows/${viaBearer.json.id}`, { apiKey: key });
    expect(viaHeader.status).toBe(200);
    const audit = await env.DB.prepare("SELECT actor_api_key_id FROM audit_log WHERE action = 'workflow.create'").first<{
      actor_api_key_id: number;
    }>();
    expect(audit!.actor_api_key_id).toBe(created.json.id);

    const list = await api('GET', '/api/v3/auth/api-keys', { token });
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(1);
    expect(list.json.items[0]).not.toHaveProperty('key');
    expect(list.json.items[0].last_used_at).not.toBeNull();

    expect((await api('DELETE', `/api/v3/auth/api-keys/${created.json.id}`, { token })).status).toBe(204);
    expectError(await api('GET', '/api/v3/workflows', { apiKey: key }), 401, 'unauthorized');
    expectError(await api('DELETE', `/api/v3/auth/api-keys/${created.json.id}`, { token }), 404, 'not_found');
  });

  it('enforces scopes: a read-only key cannot write, and keys cannot manage keys or sessions', async () => {
    const { token } = await registerAndLogin(unique('scope'));
    const ro = (await api('POST', '/api/v3/auth/api-keys', { token, body: { name: 'ro', scopes: ['workflows:read'] } })).json.key;
    expect((await api('GET', '/api/v3/workflows', { apiKey: ro })).status).toBe(200);
    expectError(await api('POST', '/api/v3/workflows', { apiKey: ro, body: { name: 'x', nodes: simpleNodes } }), 403, 'forbidden');
    expectError(await api('GET', '/api/v3/auth/me', { apiKey: ro }), 403, 'forbidden');
    expectError(
      await api('POST', '/api/v3/auth/api-keys', { apiKey: ro, body: { name: 'escalate', scopes: ['users:admin'] } }),
      403,
      'forbidden',
    );
    expectError(await api('POST', '/api/v3/auth/logout', { apiKey: ro }), 403, 'forbidden');
  });

  it("a key never exceeds its owner's role: an editor's users:admin key cannot list users", async () => {
    await registerAndLogin(unique('firstadmin'));
    const editor = await registerAndLogin(unique('ed'));
    expect(editor.user.role).toBe('editor');
    const key = (await api('POST', '/api/v3/auth/api-keys', { token: editor.token, body: { name: 'x', scopes: ['users:admin'] } })).json
      .key;
    expectError(await api('GET', '/api/v3/auth/users', { apiKey: key }), 403, 'forbidden');
  });

  it("cannot revoke another user's key (404) and refuses bad input without writing", async () => {
    const a = await registerAndLogin(unique('ka'));
    const b = await registerAndLogin(unique('kb'));
    const keyA = (await api('POST', '/api/v3/auth/api-keys', { token: a.token, body: { name: 'a', scopes: ['workflows:read'] } })).json;
    const before = await snapshot();
    expectError(await api('DELETE', `/api/v3/auth/api-keys/${keyA.id}`, { token: b.token }), 404, 'not_found');
    expectError(
      await api('POST', '/api/v3/auth/api-keys', { token: a.token, body: { name: 'x', scopes: ['root'] } }),
      400,
      'validation_error',
    );
    expectError(await api('POST', '/api/v3/auth/api-keys', { token: a.token, body: { name: '', scopes: [] } }), 400, 'validation_error');
    expectError(await api('DELETE', '/api/v3/auth/api-keys/abc', { token: a.token }), 400, 'validation_error');
    expect(await snapshot()).toEqual(before);
    expect((await api('GET', '/api/v3/workflows', { apiKey: keyA.key })).status).toBe(200);
  });

  it('refuses unknown and expired keys', async () => {
    expectError(await api('GET', '/api/v3/workflows', { apiKey: `dwc_${'A'.repeat(43)}` }), 401, 'unauthorized');
    const { token } = await registerAndLogin(unique('exp'));
    const k = (
      await api('POST', '/api/v3/auth/api-keys', { token, body: { name: 'soon', scopes: ['workflows:read'], expires_in_days: 1 } })
    ).json;
    await env.DB.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1000, k.id)
      .run();
    expectError(await api('GET', '/api/v3/workflows', { apiKey: k.key }), 401, 'unauthorized');
  });
});
