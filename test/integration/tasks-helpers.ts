import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { expect } from 'vitest';
import worker from '../../src/index';
import { api, poll } from '../helpers';

/** Shared by the tasks* and scheduler* test files (not a test file itself). */
export const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out', 'dead'];

export type TaskJson = {
  id: number;
  status: string;
  attempts: number;
  error: string | null;
  result: any;
  run_id: number | null;
  schedule_id: number | null;
  started_at: string | null;
  finished_at: string | null;
  attempt_log?: { attempt: number; status: string; error: string | null; retry_delay_seconds: number | null }[];
};

export async function submit(token: string, body: Record<string, unknown>, expected = 201): Promise<TaskJson> {
  const res = await api('POST', '/api/v3/background/tasks/submit', { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(expected);
  return res.json;
}

export async function getTask(token: string, id: number): Promise<TaskJson> {
  const res = await api('GET', `/api/v3/background/tasks/${id}`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
}

/** Polls a task until `done` holds; the real local queue and its consumer run it meanwhile. */
export async function waitForTask(
  token: string,
  id: number,
  done: (t: TaskJson) => boolean = (t) => TERMINAL.includes(t.status),
  timeoutMs = 20_000,
): Promise<TaskJson> {
  return poll(() => getTask(token, id), done, { timeoutMs, intervalMs: 50, what: `task ${id}` });
}

let msg = 0;
/**
 * Delivers message bodies to the worker's queue handler as one batch; returns what it acked or
 * retried. The test helper's result omits retry delays, so each message's retry() is wrapped
 * to record the delay it was given.
 */
export async function deliver(
  queue: 'dwc-tasks' | 'dwc-tasks-dlq' | 'dwc-events',
  messages: { body: unknown; attempts?: number; id?: string }[],
  bindings: Env = env,
) {
  const batch = createMessageBatch(
    queue,
    messages.map((m) => ({ id: m.id ?? `test-${Date.now()}-${msg++}`, timestamp: new Date(), attempts: m.attempts ?? 1, body: m.body })),
  );
  const delays = new Map<string, number | undefined>();
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    Object.defineProperty(m, 'retry', {
      value: (opts?: QueueRetryOptions) => {
        delays.set(m.id, opts?.delaySeconds);
        retry(opts);
      },
    });
  }
  await worker.queue(batch, bindings);
  const result = await getQueueResult(batch, createExecutionContext());
  return {
    ...result,
    retryDelays: result.retryMessages.map((r: { msgId: string }) => ({ msgId: r.msgId, delaySeconds: delays.get(r.msgId) })),
  };
}

export async function hookStats(
  tag: string,
): Promise<{ calls: number; requests: { method: string; path: string; headers: Record<string, string>; body: string }[] }> {
  return (await fetch(`http://hooks.test/stats?tag=${tag}`)).json();
}

export const csv = 'region,units\nnorth,3\nsouth,1\nnorth,2\n';
