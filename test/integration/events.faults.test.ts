import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunEngine } from '../../src/engine';
import { type DomainEvent, eventInsert, publishOutbox } from '../../src/lib/events';
import { getDb } from '../../src/db/client';
import { createWorkflow, getRun, poll, registerAndLogin, releaseLlm, startRun, unique } from '../helpers';
import { allDone, createAutomation, waitForExecutions } from './automations-helpers';
import { deliver } from './tasks-helpers';

/*
 * Domain events leave through their emitter's outbox and reach subscribers through the
 * dwc-events queue. These tests make D1 (or the queue) fail at the moment an event is emitted or
 * handled, and show that once it recovers the automation fires, exactly once.
 */

/** A D1 binding that fails every call, as during an outage. */
const downD1 = new Proxy({} as D1Database, {
  get: () => () => {
    throw new Error('D1_ERROR: simulated outage');
  },
});

const runObject = (runId: number) => env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${runId}`));

/** Reaches into the run's object to swap the D1 its engine writes to. */
async function setRunD1(runId: number, d1: D1Database) {
  await runInDurableObject(runObject(runId), (instance) => {
    (instance as unknown as { engine: RunEngine }).engine.ports.d1 = d1;
  });
}

const executionsOf = async (eventId: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM automation_executions WHERE event_id = ?').bind(eventId).first<{ n: number }>())!.n;

/** Delivers one event to the Worker's queue handler, as the dwc-events consumer would, with the given bindings. */
const deliverEvent = (event: DomainEvent, bindings: Env = env) => deliver('dwc-events', [{ body: event }], bindings);

let token: string;
let userId: number;
beforeAll(async () => {
  const me = await registerAndLogin(unique('events'));
  token = me.token;
  userId = me.user.id;
});

async function watchCompletions(workflowId: number) {
  return createAutomation(token, {
    name: 'note completed runs',
    trigger: {
      type: 'event_based',
      event: 'workflow.completed',
      conditions: { all: [{ path: 'trigger.workflow_id', op: 'eq', value: workflowId }] },
    },
    actions: [{ type: 'send_notification', parameters: { channel: 'in_app', subject: 'Run {{trigger.run_id}} done', message: 'ok' } }],
  });
}

describe('domain events survive D1 failing at the moment of emission', () => {
  it('a run that finishes while D1 is down keeps its event; after recovery the automation fires once', async () => {
    const tag = unique('outage');
    const wf = await createWorkflow(token, {
      name: 'finishes during an outage',
      settings: { fallback_providers: [] },
      nodes: [{ id: 'only', type: 'generate', provider: 'openai', model: `hold-${tag}`, prompt: 'x' }],
    });
    const automation = await watchCompletions(wf.id);
    const run = await startRun(token, wf.id);
    await poll(
      () => getRun(token, wf.id, run.id),
      (r) => r.nodes[0]!.status === 'running',
    );
    await setRunD1(run.id, downD1);
    await releaseLlm(tag);

    // The run ends inside its object; D1 and the automations hear nothing yet.
    await poll(
      () => runInDurableObject(runObject(run.id), (instance) => (instance as unknown as { engine: RunEngine }).engine.view()),
      (v) => v.meta.status === 'succeeded',
    );
    const eventId = `run:${run.id}:succeeded`;
    const projected = async () =>
      (await env.DB.prepare('SELECT status FROM runs WHERE id = ?').bind(run.id).first<{ status: string }>())!.status;
    expect(await projected()).not.toBe('succeeded');
    expect(await executionsOf(eventId)).toBe(0);

    // D1 is back: the retry alarm the run armed writes its projection and sends the event.
    await setRunD1(run.id, env.DB);
    await runDurableObjectAlarm(runObject(run.id));
    expect(await projected()).toBe('succeeded');
    const [execution] = await waitForExecutions(token, automation.id, allDone(1));
    expect(execution).toMatchObject({ event_id: eventId, status: 'succeeded' });

    // The same event again (an outbox flushed twice, a redelivered message) fires nothing more.
    const event: DomainEvent = {
      id: eventId,
      type: 'workflow.completed',
      ownerId: userId,
      at: Date.now(),
      data: { run_id: run.id, workflow_id: wf.id, workflow_name: 'finishes during an outage', status: 'succeeded', error: null },
      effectRef: `run:${run.id}`,
    };
    expect((await deliverEvent(event)).explicitAcks).toHaveLength(1);
    expect(await executionsOf(eventId)).toBe(1);
  });

  it('a subscriber that finds D1 down has the event offered again; the retry fires the automation once', async () => {
    const wf = await createWorkflow(token, { name: 'watched', nodes: [{ id: 'a', type: 'generate', prompt: 'x' }] });
    const automation = await watchCompletions(wf.id);
    const event: DomainEvent = {
      id: `run:${unique('synthetic')}:succeeded`,
      type: 'workflow.completed',
      ownerId: userId,
      at: Date.now(),
      data: { run_id: 0, workflow_id: wf.id, workflow_name: 'watched', status: 'succeeded', error: null },
      effectRef: null,
    };
    const refused = await deliverEvent(event, { ...env, DB: downD1 });
    expect(refused.retryMessages).toHaveLength(1);
    expect(refused.explicitAcks).toHaveLength(0);
    expect(await executionsOf(event.id)).toBe(0);

    const accepted = await deliverEvent(event);
    expect(accepted.explicitAcks).toHaveLength(1);
    expect(await executionsOf(event.id)).toBe(1);
    expect((await waitForExecutions(token, automation.id, allDone(1))).map((e) => e.event_id)).toEqual([event.id]);

    expect((await deliverEvent(event)).explicitAcks).toHaveLength(1);
    expect(await executionsOf(event.id)).toBe(1);
  });

  it('an event stored in a D1 batch stays in the outbox until the queue takes it', async () => {
    const event: DomainEvent = {
      id: `test:${unique('outbox')}`,
      type: 'workflow.updated',
      ownerId: null,
      at: Date.now(),
      data: {},
      effectRef: null,
    };
    await eventInsert(getDb(env.DB), event);
    const downQueue = {
      send: () => Promise.reject(new Error('queue unavailable')),
      sendBatch: () => Promise.reject(new Error('queue unavailable')),
    } as unknown as Queue;
    await expect(publishOutbox({ DB: env.DB, EVENTS_QUEUE: downQueue })).rejects.toThrow('queue unavailable');
    const stored = () => env.DB.prepare('SELECT count(*) AS n FROM event_outbox WHERE event_id = ?').bind(event.id).first<{ n: number }>();
    expect((await stored())!.n).toBe(1);
    const sent: unknown[] = [];
    const upQueue = { sendBatch: async (ms: { body: unknown }[]) => void sent.push(...ms.map((m) => m.body)) } as unknown as Queue;
    expect(await publishOutbox({ DB: env.DB, EVENTS_QUEUE: upQueue })).toBeGreaterThanOrEqual(1);
    expect(sent).toContainEqual(event);
    expect((await stored())!.n).toBe(0);
  });
});
