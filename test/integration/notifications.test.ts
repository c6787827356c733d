import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '../../src/db/client';
import { deliverInApp } from '../../src/notifications/inbox';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { connectWs } from '../ws-client';

/*
 * The in-app inbox: stored per recipient, pushed live to their WebSocket connections, read and
 * unread state, private to its owner. Producers (security alerts today) call deliverInApp().
 */
let alice: Awaited<ReturnType<typeof registerAndLogin>>;
let bob: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  alice = await registerAndLogin(unique('nalice'));
  bob = await registerAndLogin(unique('nbob'));
});

const send = (userId: number, title: string, dedupeKey?: string) =>
  deliverInApp(env, getDb(env.DB), userId, {
    category: 'test',
    title,
    body: `${title} body`,
    data: { n: title },
    ...(dedupeKey ? { dedupeKey } : {}),
  });

describe('in-app notifications', () => {
  it('stores, pushes live, and stores a deduplicated message once', async () => {
    const ws = await connectWs({ token: alice.token });
    await ws.waitFor((f) => f.type === 'welcome');
    const first = await send(alice.user.id, 'hello', 'k1');
    const again = await send(alice.user.id, 'hello', 'k1');
    expect(first).toMatchObject({ title: 'hello', priority: 'normal', read_at: null });
    expect(again).toBeNull();
    const frame = await ws.waitFor((f) => f.type === 'notification' && f.data?.type === 'inbox');
    expect(frame.data.notification).toEqual(first);
    ws.close();
    const inbox = await api('GET', '/api/v3/notifications', { token: alice.token });
    expect(inbox.json.items.filter((n: { title: string }) => n.title === 'hello')).toHaveLength(1);
  });

  it('counts unread, marks read once (keeping the first time), marks all, and deletes', async () => {
    const a = (await send(alice.user.id, 'one'))!;
    await send(alice.user.id, 'two');
    const unread = (await api('GET', '/api/v3/notifications/unread-count', { token: alice.token })).json.unread;
    expect(unread).toBe(3);

    const read1 = await api('POST', `/api/v3/notifications/${a.id}/read`, { token: alice.token });
    expect(read1.status).toBe(200);
    expect(read1.json.read_at).toEqual(expect.any(String));
    await new Promise((r) => setTimeout(r, 5));
    const read2 = await api('POST', `/api/v3/notifications/${a.id}/read`, { token: alice.token });
    expect(read2.json.read_at).toBe(read1.json.read_at);

    const unreadOnly = await api('GET', '/api/v3/notifications?unread=true', { token: alice.token });
    expect(unreadOnly.json.items.map((n: { title: string }) => n.title)).toEqual(['two', 'hello']);
    expect((await api('POST', '/api/v3/notifications/read-all', { token: alice.token })).json).toEqual({ marked: 2 });
    expect((await api('GET', '/api/v3/notifications/unread-count', { token: alice.token })).json.unread).toBe(0);

    expect((await api('DELETE', `/api/v3/notifications/${a.id}`, { token: alice.token })).status).toBe(204);
    expectError(await api('DELETE', `/api/v3/notifications/${a.id}`, { token: alice.token }), 404, 'not_found');
  });

  it("keeps each inbox private: another user's notification is not found", async () => {
    const mine = (await send(alice.user.id, 'private'))!;
    expect((await api('GET', '/api/v3/notifications', { token: bob.token })).json.items).toEqual([]);
    expectError(await api('POST', `/api/v3/notifications/${mine.id}/read`, { token: bob.token }), 404, 'not_found');
    expectError(await api('DELETE', `/api/v3/notifications/${mine.id}`, { token: bob.token }), 404, 'not_found');
    const row = await env.DB.prepare('SELECT read_at FROM notifications WHERE id = ?').bind(mine.id).first();
    expect(row).toEqual({ read_at: null });
  });

  it('pages newest first and validates its query', async () => {
    for (let i = 0; i < 5; i++) await send(bob.user.id, `p${i}`);
    const page1 = await api('GET', '/api/v3/notifications?limit=2', { token: bob.token });
    const page2 = await api('GET', `/api/v3/notifications?limit=2&cursor=${page1.json.next_cursor}`, { token: bob.token });
    expect([...page1.json.items, ...page2.json.items].map((n: { title: string }) => n.title)).toEqual(['p4', 'p3', 'p2', 'p1']);
    expectError(await api('GET', '/api/v3/notifications?unread=maybe', { token: bob.token }), 400, 'validation_error');
    expectError(await api('GET', '/api/v3/notifications'), 401, 'unauthorized');
  });
});
