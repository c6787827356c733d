import { expect } from 'vitest';
import { api, poll } from '../helpers';

/** Shared by the automations* test files (not a test file itself). */
export const DONE = ['succeeded', 'failed', 'skipped', 'refused'];

export async function executions(token: string, automationId: string): Promise<any[]> {
  const res = await api('GET', `/api/v3/automations/${automationId}/executions?limit=100`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.items;
}

/** Polls the execution log until `done` holds; the real local queue runs the executions meanwhile. */
export async function waitForExecutions(
  token: string,
  automationId: string,
  done: (items: any[]) => boolean,
  timeoutMs = 30_000,
): Promise<any[]> {
  return poll(() => executions(token, automationId), done, { timeoutMs, intervalMs: 50, what: 'the execution log' });
}

export const allDone = (n: number) => (items: any[]) => items.length >= n && items.every((e) => DONE.includes(e.status));

export async function createAutomation(token: string, body: unknown): Promise<any> {
  const res = await api('POST', '/api/v3/automations', { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}
