import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, registerAndLogin, startRun, unique, waitForRun } from '../helpers';
import { connectWs, type Frame } from '../ws-client';

let owner: Awaited<ReturnType<typeof registerAndLogin>>;
let stranger: Awaited<ReturnType<typeof registerAndLogin>>;
let workflowId: number;

const chain = {
  name: 'live chain',
  nodes: [
    { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
    { id: 'draft', type: 'generate', depends_on: ['outline'], prompt: 'Write an article from this outline:\n{{nodes.outline.output}}' },
  ],
};

beforeAll(async () => {
  owner = await registerAndLogin(unique('rt'));
  stranger = await registerAndLogin(unique('rx'));
  workflowId = (await createWorkflow(owner.token, chain)).id;
});

const runEvents = (frames: Frame[], runId: number) => frames.filter((f) => f.type === 'event' && f.event.run_id === runId);

describe('WebSocket connections', () => {
  it('refuses an unauthenticated upgrade with 401 before upgrading, and ignores user_id', async () => {
    const anon = await connectWs({ query: 'user_id=1' });
    expect(anon.res.status).toBe(401);
    expect(anon.res.webSocket).toBeNull();
    const forged = await connectWs({ token: 'not-a-token', query: 'user_id=1' });
    expect(forged.res.status).toBe(401);
    // A real token with someone else's user_id: identity comes from the token only.
    const c = await connectWs({ token: stranger.token, path: '/api/v3/ws/ws', query: `connection_id=test123&user_id=${owner.user.id}` });
    expect(c.res.status).toBe(101);
    const welcome = await c.waitFor((f) => f.type === 'welcome');
    expect(welcome).toMatchObject({ user_id: stranger.user.id, label: 'test123', rooms: [`user:${stranger.user.id}`] });
    c.close();
  });

  it('accepts the token as a subprotocol and answers with dwc.v1', async () => {
    const c = await connectWs({ protocols: ['dwc.v1', `bearer.${owner.token}`] });
    expect(c.res.status).toBe(101);
    expect(c.res.headers.get('sec-websocket-protocol')).toBe('dwc.v1');
    c.close();
  });

  it('answers ping, and bad frames with an error frame without disconnecting', async () => {
    const c = await connectWs({ token: owner.token });
    c.send({ type: 'ping' });
    expect((await c.waitFor((f) => f.type === 'pong')).time).toEqual(expect.any(String));
    c.send('not json');
    c.send({ type: 'teleport' });
    c.send({ type: 'join_workflow', workflow_id: 'abc' });
    c.send({ type: 'join_room', room: 'Bad Name!' });
    await c.waitFor(() => c.frames.filter((f) => f.type === 'error').length >= 4);
    expect(c.frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual(['bad_frame', 'bad_frame', 'bad_frame', 'bad_frame']);
    c.send({ type: 'ping' });
    await c.waitFor(() => c.frames.filter((f) => f.type === 'pong').length === 2);
    c.send('x'.repeat(20_000));
    expect((await c.waitFor((f) => f.code === 'too_large')).type).toBe('error');
    c.close();
  });

  it('limits the message rate per connection', async () => {
    const c = await connectWs({ token: owner.token });
    for (let i = 0; i < 40; i++) c.send({ type: 'ping' });
    await c.waitFor((f) => f.code === 'rate_limited');
    await c.waitFor(() => c.frames.filter((f) => f.type === 'pong' || f.code === 'rate_limited').length === 40);
    const pongs = c.frames.filter((f) => f.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(40);
    c.close();
  });
});

describe('workflow rooms', () => {
  it('two clients receive the same run events in the same order; a user without access is refused', async () => {
    const a = await connectWs({ token: owner.token });
    const b = await connectWs({ token: owner.token });
    const x = await connectWs({ token: stranger.token });
    for (const c of [a, b]) {
      c.send({ type: 'join_workflow', workflow_id: workflowId });
      await c.waitFor((f) => f.type === 'joined');
    }
    x.send({ type: 'join_workflow', workflow_id: workflowId });
    expect((await x.waitFor((f) => f.type === 'error')).code).toBe('forbidden');
    x.send({ type: 'join_workflow', workflow_id: 999999 });
    await x.waitFor(() => x.frames.filter((f) => f.type === 'error').length === 2);

    const run = await startRun(owner.token, workflowId, { topic: 'lighthouses' });
    await waitForRun(owner.token, workflowId, run.id);
    const expected = (await api('GET', `/api/v3/workflows/${workflowId}/runs/${run.id}/events?limit=1000`, { token: owner.token })).json
      .items as { seq: number }[];
    for (const c of [a, b]) await c.waitFor(() => runEvents(c.frames, run.id).length === expected.length);
    const seqA = runEvents(a.frames, run.id).map((f) => [f.seq, f.event.seq, f.event.type]);
    const seqB = runEvents(b.frames, run.id).map((f) => [f.seq, f.event.seq, f.event.type]);
    expect(seqA).toEqual(seqB);
    expect(seqA.map((s) => s[1])).toEqual(expected.map((e) => e.seq));
    expect(seqA.at(-1)![2]).toBe('run.succeeded');
    expect(runEvents(x.frames, run.id)).toEqual([]);
    // Tokens arrive live: the draft is written chunk by chunk.
    expect(runEvents(a.frames, run.id).filter((f) => f.event.type === 'node.token').length).toBeGreaterThan(2);
    for (const c of [a, b, x]) c.close();
  });

  it('a client that disconnects mid-run and reconnects with its last sequence ends with the complete list', async () => {
    const first = await connectWs({ token: owner.token });
    first.send({ type: 'join_workflow', workflow_id: workflowId });
    const joined = await first.waitFor((f) => f.type === 'joined');
    const run = await startRun(owner.token, workflowId, { topic: 'harbours' });
    await first.waitFor(() => runEvents(first.frames, run.id).length >= 3);
    first.close();
    const seen = first.frames.filter((f) => f.type === 'event');
    const lastSeen = seen.at(-1)!.seq;

    await waitForRun(owner.token, workflowId, run.id);
    const again = await connectWs({ token: owner.token });
    again.send({ type: 'join_workflow', workflow_id: workflowId, after: lastSeen });
    const expected = (await api('GET', `/api/v3/workflows/${workflowId}/runs/${run.id}/events?limit=1000`, { token: owner.token })).json
      .items.length;
    await again.waitFor(() => runEvents([...seen, ...again.frames], run.id).length >= expected);
    const all = [...seen, ...again.frames.filter((f) => f.type === 'event')];
    const roomSeqs = all.map((f) => f.seq);
    expect(new Set(roomSeqs).size).toBe(roomSeqs.length); // no duplicate
    expect(roomSeqs).toEqual(Array.from({ length: roomSeqs.length }, (_, i) => joined.last_seq + 1 + i)); // no gap
    expect(runEvents(all, run.id).map((f) => f.event.seq)).toEqual(Array.from({ length: expected }, (_, i) => i + 1));
    again.close();
  });

  it('named rooms: join, publish, isolation between rooms, leave', async () => {
    const a = await connectWs({ token: owner.token });
    const b = await connectWs({ token: stranger.token });
    const c = await connectWs({ token: stranger.token });
    const room = unique('lobby');
    const shared = { room, owner_id: owner.user.id };
    a.send({ type: 'join_room', room });
    a.send({ type: 'grant_room', room, user_id: stranger.user.id });
    expect(await a.waitFor((f) => f.type === 'granted')).toMatchObject({
      room: `room:${owner.user.id}:${room}`,
      user_id: stranger.user.id,
    });
    b.send({ type: 'join_room', ...shared });
    c.send({ type: 'join_room', room: `${room}-other` });
    for (const cl of [a, b, c]) await cl.waitFor((f) => f.type === 'joined');
    c.send({ type: 'publish', ...shared, data: { text: 'not a member' } });
    expect((await c.waitFor((f) => f.type === 'error')).code).toBe('forbidden');
    a.send({ type: 'publish', room, data: { text: 'hello' } });
    const got = await b.waitFor((f) => f.type === 'event' && f.room === `room:${owner.user.id}:${room}`);
    expect(got.event).toMatchObject({ type: 'message', from_user_id: owner.user.id, data: { text: 'hello' } });
    await a.waitFor((f) => f.type === 'published');
    b.send({ type: 'leave_room', ...shared });
    await b.waitFor((f) => f.type === 'left');
    a.send({ type: 'publish', room, data: { text: 'second' } });
    await a.waitFor(() => a.frames.filter((f) => f.type === 'event').length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames.filter((f) => f.type === 'event')).toHaveLength(1);
    expect(c.frames.filter((f) => f.type === 'event')).toHaveLength(0);
    for (const cl of [a, b, c]) cl.close();
  });

  it("named rooms are their owner's: the same name is another user's own room; others need a grant, and a revoke ends it", async () => {
    const a = await connectWs({ token: owner.token });
    const b = await connectWs({ token: stranger.token });
    const room = unique('team');
    a.send({ type: 'join_room', room });
    b.send({ type: 'join_room', room }); // the stranger's own room of that name: not the owner's
    for (const cl of [a, b]) await cl.waitFor((f) => f.type === 'joined');
    a.send({ type: 'publish', room, data: { text: 'for the owner only' } });
    await a.waitFor((f) => f.type === 'event');
    // Without a grant, joining the owner's room is refused like a room that does not exist.
    b.send({ type: 'join_room', room, owner_id: owner.user.id });
    const refused = await b.waitFor((f) => f.type === 'error');
    expect(refused).toMatchObject({ code: 'forbidden' });
    b.send({ type: 'join_room', room: unique('nonexistent'), owner_id: owner.user.id });
    await b.waitFor(() => b.frames.filter((f) => f.type === 'error').length === 2);
    expect(b.frames.filter((f) => f.type === 'error')[1]!.message.replace(/room \S+ /, 'room X ')).toBe(
      refused.message.replace(/room \S+ /, 'room X '),
    );
    // Granting is the owner's alone: a grant frame always names the sender's own room.
    b.send({ type: 'grant_room', room, user_id: stranger.user.id });
    expect(await b.waitFor((f) => f.type === 'granted')).toMatchObject({ room: `room:${stranger.user.id}:${room}` });
    b.send({ type: 'join_room', room, owner_id: owner.user.id });
    await b.waitFor(() => b.frames.filter((f) => f.type === 'error').length === 3);

    a.send({ type: 'grant_room', room, user_id: stranger.user.id });
    await a.waitFor((f) => f.type === 'granted');
    b.send({ type: 'join_room', room, owner_id: owner.user.id });
    await b.waitFor((f) => f.type === 'joined' && f.room === `room:${owner.user.id}:${room}`);
    expect(b.frames.filter((f) => f.type === 'event')).toHaveLength(0); // the owner's earlier message was not in its own-named room

    a.send({ type: 'revoke_room', room, user_id: stranger.user.id });
    await a.waitFor((f) => f.type === 'revoked');
    b.send({ type: 'publish', room, owner_id: owner.user.id, data: { text: 'after revoke' } });
    await b.waitFor(() => b.frames.filter((f) => f.type === 'error').length === 4);
    a.send({ type: 'publish', room, data: { text: 'members only' } });
    await a.waitFor(() => a.frames.filter((f) => f.type === 'event').length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames.filter((f) => f.type === 'event' && f.room === `room:${owner.user.id}:${room}`)).toHaveLength(0);
    for (const cl of [a, b]) cl.close();
  });
});
