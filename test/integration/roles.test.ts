import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, simpleNodes, unique } from '../helpers';

let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let editor: Awaited<ReturnType<typeof registerAndLogin>>;
let viewer: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  admin = await registerAndLogin(unique('root'));
  editor = await registerAndLogin(unique('writer'));
  viewer = await registerAndLogin(unique('reader'));
  const demoted = await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin.token, body: { role: 'viewer' } });
  expect(demoted.status).toBe(200);
  expect(demoted.json.role).toBe('viewer');
});

describe('roles per route', () => {
  it('first user is admin, later users editor', () => {
    expect(admin.user.role).toBe('admin');
    expect(editor.user.role).toBe('editor');
  });

  it('viewers can read but not write workflows; the new role applies to existing tokens at once', async () => {
    expect((await api('GET', '/api/v3/workflows', { token: viewer.token })).status).toBe(200);
    expectError(
      await api('POST', '/api/v3/workflows', { token: viewer.token, body: { name: 'no', nodes: simpleNodes } }),
      403,
      'forbidden',
    );
    expect((await api('GET', '/api/v3/auth/me', { token: viewer.token })).json.role).toBe('viewer');
  });

  it('editors write workflows but cannot administer users', async () => {
    expect((await api('POST', '/api/v3/workflows', { token: editor.token, body: { name: 'ok', nodes: simpleNodes } })).status).toBe(201);
    expectError(await api('GET', '/api/v3/auth/users', { token: editor.token }), 403, 'forbidden');
    expectError(
      await api('PATCH', `/api/v3/auth/users/${editor.user.id}`, { token: editor.token, body: { role: 'admin' } }),
      403,
      'forbidden',
    );
  });

  it('admins list users (paginated) and change roles, but not their own', async () => {
    const page1 = await api('GET', '/api/v3/auth/users?limit=2', { token: admin.token });
    expect(page1.status).toBe(200);
    expect(page1.json.items).toHaveLength(2);
    expect(page1.json.next_cursor).toEqual(expect.any(String));
    const page2 = await api('GET', `/api/v3/auth/users?limit=2&cursor=${page1.json.next_cursor}`, { token: admin.token });
    expect(page2.json.items).toHaveLength(1);
    expect(page2.json.next_cursor).toBeNull();
    const ids = [...page1.json.items, ...page2.json.items].map((u: { id: number }) => u.id);
    expect(new Set(ids).size).toBe(3);
    expect(JSON.stringify(page1.json)).not.toContain('pbkdf2');

    expectError(
      await api('PATCH', `/api/v3/auth/users/${admin.user.id}`, { token: admin.token, body: { role: 'viewer' } }),
      403,
      'forbidden',
    );
    expectError(await api('PATCH', '/api/v3/auth/users/99999', { token: admin.token, body: { role: 'viewer' } }), 404, 'not_found');
    expectError(
      await api('PATCH', `/api/v3/auth/users/${editor.user.id}`, { token: admin.token, body: { role: 'owner' } }),
      400,
      'validation_error',
    );
  });

  it('rejects a bad cursor and out-of-range limits with 400', async () => {
    expectError(await api('GET', '/api/v3/auth/users?cursor=%%%', { token: admin.token }), 400, 'bad_request');
    expectError(await api('GET', '/api/v3/auth/users?limit=1000', { token: admin.token }), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/auth/users?limit=0', { token: admin.token }), 400, 'validation_error');
  });
});
