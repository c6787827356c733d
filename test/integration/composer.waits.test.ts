import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, poll, registerAndLogin, releaseLlm, startRun, unique, waitForRun } from '../helpers';

/*
 * wait (a duration or an instant) and wait_for_event (a named event, sent through the run's
 * events route). Both park the node on the run object's alarm: nothing runs while they wait.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('waits'))).token;
});

const runObject = (runId: number) => env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${runId}`));
const send = (wfId: number, runId: number, name: string, payload: unknown) =>
  api('POST', `/api/v3/workflows/${wfId}/runs/${runId}/events`, { token, body: { type: 'event', name, payload } });

const approvalEvent = (extra: Record<string, unknown> = {}) => ({
  id: 'signed',
  type: 'wait_for_event',
  event: 'contract.signed',
  schema: { type: 'object', properties: { by: { type: 'string' }, pages: { type: 'integer', minimum: 1 } }, required: ['by'] },
  timeout_seconds: 60,
  ...extra,
});

describe('wait', () => {
  it('waits on the alarm alone (no wake-up before it is due) and survives an eviction', async () => {
    const wf = await createWorkflow(token, {
      name: 'pause for a moment',
      nodes: [
        { id: 'pause', type: 'wait', duration_seconds: 2 },
        { id: 'after', type: 'transform', depends_on: ['pause'], source: 'done', operations: [{ op: 'trim' }] },
      ],
    });
    const started = await startRun(token, wf.id);
    const waiting = await waitForRun(token, wf.id, started.id, (r) => r.status === 'waiting');
    const until = Date.parse(waiting.nodes[0]!.waiting_until!);
    // The object's only wake-up is the wait's end: no polling meanwhile.
    expect(await runInDurableObject(runObject(started.id), (_, state) => state.storage.getAlarm())).toBe(until);
    await runInDurableObject(runObject(started.id), (_, state) => {
      try {
        state.abort('test: simulated eviction');
      } catch {
        // abort() throws inside the object by design
      }
    }).catch(() => undefined);
    // The alarm is durable: the next incarnation wakes at the same instant and goes on.
    expect(await runInDurableObject(runObject(started.id), (_, state) => state.storage.getAlarm())).toBe(until);
    const run = await waitForRun(token, wf.id, started.id, undefined, 10_000);
    expect(run.status).toBe('succeeded');
    expect(Date.parse(run.nodes[1]!.started_at!)).toBeGreaterThanOrEqual(until);
    expect(run.nodes[0]!.output!.data).toEqual({ waited_until: new Date(until).toISOString() });
  });

  it('needs a duration or an instant, and fails clearly on an instant that is not one', async () => {
    const none = await api('POST', '/api/v3/workflows', { token, body: { name: 'x', nodes: [{ id: 'w', type: 'wait' }] } });
    expectError(none, 400, 'validation_error');
    const wf = await createWorkflow(token, { name: 'bad instant', nodes: [{ id: 'w', type: 'wait', until: '{{input.when}}' }] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { when: 'tomorrow' })).id);
    expect(run.nodes[0]!.error).toBe('until must be an ISO 8601 instant; it rendered as "tomorrow"');
  });
});

describe('wait_for_event', () => {
  it('takes an event sent while it waits; its payload is the output', async () => {
    const wf = await createWorkflow(token, {
      name: 'signature',
      nodes: [
        approvalEvent(),
        {
          id: 'thanks',
          type: 'transform',
          depends_on: ['signed'],
          source: 'Signed by {{nodes.signed.output.by}}',
          operations: [{ op: 'trim' }],
        },
      ],
    });
    const started = await startRun(token, wf.id);
    await waitForRun(token, wf.id, started.id, (r) => r.nodes[0]!.status === 'waiting');
    const res = await send(wf.id, started.id, 'contract.signed', { by: 'Ada', pages: 3 });
    expect(res.status).toBe(200);
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.nodes[0]!.output).toMatchObject({ data: { by: 'Ada', pages: 3 }, text: '{"by":"Ada","pages":3}' });
    expect(run.nodes[1]!.output!.text).toBe('Signed by Ada');
  });

  it('keeps an event sent before the node waits, and gives it to the node when it starts', async () => {
    const key = unique('slow');
    const wf = await createWorkflow(token, {
      name: 'early event',
      settings: { fallback_providers: [] },
      nodes: [
        { id: 'draft', type: 'generate', provider: 'openai', model: `hold-${key}`, prompt: 'x' },
        approvalEvent({ depends_on: ['draft'] }),
      ],
    });
    const started = await startRun(token, wf.id);
    await waitForRun(token, wf.id, started.id, (r) => r.nodes[0]!.status === 'running');
    expect((await send(wf.id, started.id, 'contract.signed', { by: 'Grace' })).status).toBe(200);
    await releaseLlm(key);
    const run = await waitForRun(token, wf.id, started.id);
    expect(run.status).toBe('succeeded');
    expect(run.nodes[1]!.output!.data).toEqual({ by: 'Grace' });
  });

  it('refuses a payload its schema does not accept, and an event no node waits for; nothing is stored', async () => {
    const wf = await createWorkflow(token, { name: 'strict', nodes: [approvalEvent()] });
    const started = await startRun(token, wf.id);
    await waitForRun(token, wf.id, started.id, (r) => r.nodes[0]!.status === 'waiting');
    const bad = await send(wf.id, started.id, 'contract.signed', { pages: 0 });
    expectError(bad, 400, 'validation_error');
    expect(bad.json.error.message).toMatch(/\$: .*by|\$\.pages: .*1/);
    expectError(await send(wf.id, started.id, 'invoice.paid', {}), 400, 'validation_error');
    const run = await waitForRun(token, wf.id, started.id, () => true);
    expect(run.nodes[0]!.status).toBe('waiting');
  });

  it('times out as declared: fail, or continue with an empty output', async () => {
    const failing = await createWorkflow(token, { name: 'no signature', nodes: [approvalEvent({ timeout_seconds: 1 })] });
    const failed = await waitForRun(token, failing.id, (await startRun(token, failing.id)).id, undefined, 10_000);
    expect(failed.status).toBe('failed');
    expect(failed.nodes[0]!.error).toBe('no "contract.signed" event arrived within 1s');

    const lenient = await createWorkflow(token, {
      name: 'maybe signed',
      nodes: [approvalEvent({ timeout_seconds: 1, on_timeout: 'continue' })],
    });
    const started = await startRun(token, lenient.id);
    const waiting = await waitForRun(token, lenient.id, started.id, (r) => r.nodes[0]!.status === 'waiting');
    // Drive the timeout with the object's own alarm once it is due, as Cloudflare would.
    await poll(
      async () => Date.now(),
      (now) => now >= Date.parse(waiting.nodes[0]!.waiting_until!),
      { intervalMs: 100 },
    );
    await runDurableObjectAlarm(runObject(started.id));
    const run = await waitForRun(token, lenient.id, started.id);
    expect(run.status).toBe('succeeded');
    expect(run.nodes[0]!.output!.data).toEqual({ event: 'contract.signed', timed_out: true });
  });
});
