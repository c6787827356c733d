import { env, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { connectWs } from '../ws-client';
import type { UserHub } from '../../src/index';
import { roomStub } from '../../src/realtime/rpc';

// In its own file: storage (and so the counters) starts empty, and no other test's sockets race.
let owner: Awaited<ReturnType<typeof registerAndLogin>>;
beforeAll(async () => {
  owner = await registerAndLogin(unique('st'));
});

describe('stats', () => {
  it('counts connections, rooms and messages for real', async () => {
    const before = (await api('GET', '/api/v3/ws/stats')).json;
    expect(before).toEqual({ connections: 0, rooms: 0, messages_in: 0, messages_out: 0 });
    const c = await connectWs({ token: owner.token });
    await c.waitFor((f) => f.type === 'welcome');
    const room = unique('counted');
    c.send({ type: 'join_room', room });
    await c.waitFor((f) => f.type === 'joined');
    const during = (await api('GET', '/api/v3/ws/stats')).json;
    expect(during.connections).toBe(before.connections + 1);
    expect(during.rooms).toBe(before.rooms + 1);
    c.close();
    await new Promise((r) => setTimeout(r, 1300)); // message counts are reported once a second
    const after = (await api('GET', '/api/v3/ws/stats')).json;
    expect(after.connections).toBe(before.connections);
    expect(after.messages_in).toBeGreaterThanOrEqual(before.messages_in + 1);
    expect(after.messages_out).toBeGreaterThanOrEqual(before.messages_out + 2);
    expectError(await api('GET', '/api/v3/ws', { token: owner.token }), 400, 'bad_request'); // signed in, but not an upgrade
  });
});

describe('hibernation', () => {
  it("keeps each socket's state in its attachment, which is what survives hibernation", async () => {
    const c = await connectWs({ token: owner.token });
    const room = unique('hib');
    c.send({ type: 'join_room', room });
    await c.waitFor((f) => f.type === 'joined');
    c.send({ type: 'publish', room, data: { n: 1 } });
    await c.waitFor((f) => f.type === 'event');
    const stub = env.USER_HUB.get(env.USER_HUB.idFromName(`user:${owner.user.id}`));
    const expected = { userId: owner.user.id, rooms: { [`user:${owner.user.id}`]: 0, [`room:${owner.user.id}:${room}`]: 1 } };
    const live = await runInDurableObject(stub, (instance: UserHub, state) => state.getWebSockets().map((ws) => instance.attachment(ws)));
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject(expected);
    // What hibernation keeps is the serialized attachment; the last sent seq is saved shortly after a delivery.
    await expect
      .poll(() => runInDurableObject(stub, (_: UserHub, state) => state.getWebSockets().map((ws) => ws.deserializeAttachment() as unknown)))
      .toMatchObject([expected]);
    c.close();
  });
});

describe('room log', () => {
  it('appends a repeated source once, so a publisher may retry', async () => {
    const room = `room:${unique('log')}`;
    const stub = roomStub(env, room);
    const first = await stub.publish(room, [
      { source: 'run:1:1', payload: { n: 1 } },
      { source: 'run:1:2', payload: { n: 2 } },
    ]);
    const again = await stub.publish(room, [
      { source: 'run:1:2', payload: { n: 2 } },
      { source: 'run:1:3', payload: { n: 3 } },
      { payload: { n: 'no source' } },
    ]);
    expect([first, again]).toEqual([2, 4]);
    expect((await stub.since(0, 10)).map((e) => [e.seq, e.payload])).toEqual([
      [1, { n: 1 }],
      [2, { n: 2 }],
      [3, { n: 3 }],
      [4, { n: 'no source' }],
    ]);
  });
});
