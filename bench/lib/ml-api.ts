import type { Session } from './api';
import { request } from './http';

/**
 * The ML and recommendation calls scenario 7 makes to set itself up and to train, over HTTP to
 * 127.0.0.1 as a client would. Only reads are retried after a dropped connection: a repeated
 * train or bulk insert would not be the same request twice.
 */
export async function send<T>(s: Session, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await request(s.base + path, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    retry: method === 'GET',
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

export type MlVersion = {
  version: number;
  status: 'training' | 'ready' | 'failed';
  error: string | null;
  finished_at: string | null;
  training_rows: number;
  metrics: { accuracy?: number } | null;
};
type TrainAnswer = { status: 'ready' | 'training'; task_id: number | null; version: MlVersion };

export async function createMlModel(s: Session, name: string, algorithm: string, parameters: Record<string, unknown>): Promise<string> {
  return (await send<{ id: string }>(s, 'POST', '/api/v3/ml/models', { name, model_type: 'classification', algorithm, parameters })).json
    .id;
}

/**
 * Polls one version until it is no longer `training`; throws if it failed or `timeoutMs` passed.
 * A fit runs on the isolate's one thread, so a poll is answered only between fits.
 */
export async function waitForVersion(s: Session, modelId: string, version: number, timeoutMs: number): Promise<MlVersion> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = (await send<MlVersion>(s, 'GET', `/api/v3/ml/models/${modelId}/versions/${version}`)).json;
    if (v.status === 'ready') return v;
    if (v.status === 'failed') throw new Error(`${modelId} v${version} failed: ${v.error}`);
    if (Date.now() > until) throw new Error(`${modelId} v${version} still training after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * POSTs a train and waits for its version to be ready, inline (201) or in the background (202).
 * Returns whether it went to the background and the version as finally stored.
 */
export async function trainAndWait(
  s: Session,
  modelId: string,
  body: Record<string, unknown>,
  timeoutMs: number,
): Promise<{ queued: boolean; version: MlVersion }> {
  const { status, json } = await send<TrainAnswer>(s, 'POST', `/api/v3/ml/models/${modelId}/train`, body);
  if (status === 201) return { queued: false, version: json.version };
  return { queued: true, version: await waitForVersion(s, modelId, json.version.version, timeoutMs) };
}
