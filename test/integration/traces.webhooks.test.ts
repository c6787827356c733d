import { beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent } from '../../src/traces';
import { registerAndLogin, unique } from '../helpers';
import { hookStats, submit, waitForTask } from './tasks-helpers';

/*
 * Outbound webhooks (webhook_call tasks) carry W3C trace context: the task's own trace when it was
 * given none, the caller's traceparent passed on unchanged when its headers hold one. The receiver
 * is the fake at http://hooks.test (test/fake-llm.ts), which records each request's headers.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('trhook'))).token;
});

describe('trace context on webhooks', () => {
  it("sends a traceparent of the task's trace, the same trace for every task call and a span per call", async () => {
    const tag = unique('trh');
    const first = await submit(token, { name: 'hook', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/ok` } });
    const second = await submit(token, { name: 'hook', task_type: 'webhook_call', payload: { url: `http://hooks.test/${tag}/ok` } });
    expect((await waitForTask(token, first.id)).status).toBe('succeeded');
    expect((await waitForTask(token, second.id)).status).toBe('succeeded');
    const { requests } = await hookStats(tag);
    expect(requests).toHaveLength(2);
    const contexts = requests.map((r) => parseTraceparent(r.headers.traceparent));
    for (const c of contexts) expect(c).toMatchObject({ traceId: expect.stringMatching(/^[0-9a-f]{32}$/), sampled: true });
    // Two tasks, two traces.
    expect(contexts[0]!.traceId).not.toBe(contexts[1]!.traceId);
  });

  it('passes on a traceparent the task was given', async () => {
    const tag = unique('trg');
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const task = await submit(token, {
      name: 'hook',
      task_type: 'webhook_call',
      payload: { url: `http://hooks.test/${tag}/ok`, headers: { traceparent: given } },
    });
    expect((await waitForTask(token, task.id)).status).toBe('succeeded');
    const { requests } = await hookStats(tag);
    expect(requests.map((r) => r.headers.traceparent)).toEqual([given]);
  });
});
