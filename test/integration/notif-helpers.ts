import { expect } from 'vitest';
import { api, poll } from '../helpers';

/** Shared by the notif*.test.ts files (not a test file itself). */
export type Recorded = { host: string; method: string; url: string; headers: Record<string, string>; body: string; body_b64: string };

/** Requests the fake provider receiver (test/fake-llm.ts) recorded, by host and a substring of URL or body. */
export async function providerLog(host: string, match: string): Promise<Recorded[]> {
  const res = await fetch(`http://hooks.test/provider-log?host=${encodeURIComponent(host)}&match=${encodeURIComponent(match)}`);
  return ((await res.json()) as { requests: Recorded[] }).requests;
}

/** Makes the fake provider answer requests containing `match` by script (flaky-<n>, status-<code>, throttle). */
export async function scriptProvider(match: string, script: string): Promise<void> {
  await fetch('http://hooks.test/provider-script', { method: 'POST', body: JSON.stringify({ match, script }) });
}

export type DeliveryJson = {
  id: number;
  status: string;
  attempts: number;
  error: string | null;
  recipient: string;
  provider_status: number | null;
  provider_message_id: string | null;
  task_id: number | null;
  skip_reason: string | null;
  subject: string;
  message: string;
  attempt_log?: {
    attempt: number;
    status: string;
    retryable: boolean;
    response_code: number | null;
    latency_ms: number | null;
    error: string | null;
    at: string;
  }[];
};

export async function sendOne(token: string, body: Record<string, unknown>, path = '/api/v3/notifications/send'): Promise<DeliveryJson> {
  const res = await api('POST', path, { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  return res.json.deliveries[0];
}

export async function getDelivery(token: string, id: number): Promise<DeliveryJson> {
  const res = await api('GET', `/api/v3/notifications/deliveries/${id}/history`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
}

/** Polls until the delivery is finished (sent, failed or skipped); the real local queue runs it. */
export async function waitForDelivery(token: string, id: number, timeoutMs = 25_000): Promise<DeliveryJson> {
  return poll(
    () => getDelivery(token, id),
    (d) => ['sent', 'failed', 'skipped'].includes(d.status),
    {
      timeoutMs,
      intervalMs: 50,
      what: `delivery ${id}`,
    },
  );
}

export async function saveChannel(token: string, channel: string, name: string, body: Record<string, unknown>, scope = 'mine') {
  const res = await api('PUT', `/api/v3/notifications/channels/${channel}/${name}?scope=${scope}`, { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
}
