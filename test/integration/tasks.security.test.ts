import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, expectError, registerAndLogin, unique } from '../helpers';
import { csv, submit } from './tasks-helpers';

let admin: string;
let editor: { token: string; user: { id: number } };
beforeAll(async () => {
  admin = (await registerAndLogin(unique('sadmin'))).token;
  editor = await registerAndLogin(unique('seditor'));
});

describe('background task access', () => {
  it('requires authentication', async () => {
    expectError(await api('POST', '/api/v3/background/tasks/submit', { body: { name: 'x', task_type: 'cleanup' } }), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/background/service/stats'), 401, 'unauthorized');
  });

  it('lets viewers read but not submit', async () => {
    const viewer = await registerAndLogin(unique('sviewer'));
    expect((await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin, body: { role: 'viewer' } })).status).toBe(200);
    expectError(
      await api('POST', '/api/v3/background/tasks/submit', { token: viewer.token, body: { name: 'x', task_type: 'cleanup' } }),
      403,
      'forbidden',
    );
    expect((await api('GET', '/api/v3/background/tasks', { token: viewer.token })).status).toBe(200);
  });

  it('holds API keys to their scopes', async () => {
    const readOnly = (await api('POST', '/api/v3/auth/api-keys', { token: editor.token, body: { name: 'ro', scopes: ['tasks:read'] } }))
      .json.key;
    const readWrite = (
      await api('POST', '/api/v3/auth/api-keys', { token: editor.token, body: { name: 'rw', scopes: ['tasks:read', 'tasks:write'] } })
    ).json.key;
    const body = { name: 'k', task_type: 'data_processing', payload: { data: csv }, delay_seconds: 600 };
    expectError(await api('POST', '/api/v3/background/tasks/submit', { apiKey: readOnly, body }), 403, 'forbidden');
    expect((await api('POST', '/api/v3/background/tasks/submit', { apiKey: readWrite, body })).status).toBe(201);
    expect((await api('GET', '/api/v3/background/service/stats', { apiKey: readOnly })).status).toBe(200);
  });

  it('keeps service controls and service-wide stats for admins', async () => {
    expectError(await api('POST', '/api/v3/background/service/pause', { token: editor.token }), 403, 'forbidden');
    expectError(await api('GET', '/api/v3/background/service/stats?scope=all', { token: editor.token }), 403, 'forbidden');
  });

  it("answers 404 for another user's task, on read and on cancel", async () => {
    const other = await registerAndLogin(unique('sother'));
    const task = await submit(other.token, { name: 'theirs', task_type: 'data_processing', payload: { data: csv }, delay_seconds: 600 });
    expectError(await api('GET', `/api/v3/background/tasks/${task.id}`, { token: editor.token }), 404, 'not_found');
    expectError(await api('POST', `/api/v3/background/tasks/${task.id}/cancel`, { token: editor.token }), 404, 'not_found');
  });

  it('gives each user their own webhook signing secret, and rotates it', async () => {
    const mine = (await api('GET', '/api/v3/background/webhooks/signing-secret', { token: editor.token })).json.secret;
    const again = (await api('GET', '/api/v3/background/webhooks/signing-secret', { token: editor.token })).json.secret;
    const theirs = (await api('GET', '/api/v3/background/webhooks/signing-secret', { token: admin })).json.secret;
    expect(again).toBe(mine);
    expect(theirs).not.toBe(mine);
    const rotated = (await api('POST', '/api/v3/background/webhooks/signing-secret/rotate', { token: editor.token })).json.secret;
    expect(rotated).not.toBe(mine);
    expect((await api('GET', '/api/v3/background/webhooks/signing-secret', { token: editor.token })).json.secret).toBe(rotated);
  });
});

describe('webhook_call refuses URLs that reach inside (SSRF)', () => {
  const urls = [
    'http://127.0.0.1/',
    'https://localhost/admin',
    'https://2130706433/',
    'https://0x7f.0.0.1/',
    'https://0177.0.0.1/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[fd00::1]/',
    'https://10.1.2.3/',
    'https://192.168.0.10/',
    'https://metadata.google.internal/',
    'https://user:secret@example.com/',
    'ftp://example.com/',
    'http://example.com/',
    'https://127.1/',
    'https://0/',
    'https://[0:0:0:0:0:ffff:7f00:1]/',
    'https://[fe80::1]/',
    'https://100.64.0.1/',
    'https://[::]/',
    'https://0x7f000001/',
    'https://localhost./',
    'https://api.localhost/',
  ];
  it.each(urls)('%s → 400, nothing stored', async (url) => {
    const before = await count('tasks');
    const res = await api('POST', '/api/v3/background/tasks/submit', {
      token: editor.token,
      body: { name: 'x', task_type: 'webhook_call', payload: { url } },
    });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0]).toMatchObject({ path: ['payload', 'url'], message: expect.stringContaining('may not be called') });
    expect(await count('tasks')).toBe(before);
  });

  it('sent nothing to any of those addresses (the outbound listener saw none of them)', async () => {
    const seen = ((await (await fetch('http://hooks.test/foreign')).json()) as { urls: string[] }).urls;
    const hosts = new Set(urls.map((u) => new URL(u).host));
    expect(seen.filter((u) => hosts.has(new URL(u).host))).toEqual([]);
  });
});
