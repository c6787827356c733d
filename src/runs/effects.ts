import { and, eq } from 'drizzle-orm';
import { getUser } from '../auth';
import { type DB, getDb } from '../db/client';
import { type NotificationChannel, type TaskType, tasks } from '../db/schema';
import type { Effect, EffectOutcome } from '../engine';
import type { RequestMeta } from '../lib/audit';
import { ApiError } from '../lib/errors';
import { sendNotificationsOnce } from '../notifications';
import { submitTasks, TERMINAL } from '../tasks';

/*
 * The effects of notify and task nodes (src/engine/effects.ts), done on behalf of the run's owner
 * with the same rules as their own API calls (relay limits and quotas for notifications, payload
 * checks and the backlog limit for tasks), once per key: a notify node's deliveries carry the key
 * as their batch id, a task node's task as its idempotency key. A refusal (4xx) fails the node
 * with the reason; anything else is thrown, and the node asks again with the same key.
 */

type Notify = Extract<Effect, { kind: 'notify' }>;
type Task = Extract<Effect, { kind: 'task' }>;

/** An API refusal as one line: the message and each detail's path and message. */
function reason(err: ApiError): string {
  const details = Array.isArray(err.details)
    ? (err.details as { path?: (string | number)[]; message?: string }[]).map((d) => `${(d.path ?? []).join('.')}: ${d.message ?? ''}`)
    : [];
  return [err.message, ...details].join('; ');
}

export async function performEffect(env: Env, ownerId: number, key: string, effect: Effect): Promise<EffectOutcome> {
  const db = getDb(env.DB);
  const meta: RequestMeta = { requestId: key, ip: null, userAgent: null, actorUserId: ownerId, actorApiKeyId: null };
  try {
    return effect.kind === 'notify' ? await notify(env, db, meta, ownerId, key, effect) : await task(env, db, meta, ownerId, key, effect);
  } catch (err) {
    if (err instanceof ApiError && !['internal', 'service_unavailable'].includes(err.code))
      return { status: 'failed', text: '', data: { refused: err.code }, error: `${effect.kind} refused: ${reason(err)}` };
    throw err;
  }
}

async function notify(env: Env, db: DB, meta: RequestMeta, ownerId: number, key: string, e: Notify): Promise<EffectOutcome> {
  const owner = await getUser(db, ownerId);
  if (!owner) throw new ApiError('not_found', 'the run’s owner no longer exists');
  const { rows } = await sendNotificationsOnce(
    env,
    db,
    meta,
    { userId: owner.id, role: owner.role },
    {
      channel: e.channel as NotificationChannel,
      recipients: [{ recipient: e.recipient }],
      subject: e.subject,
      message: e.message,
      template_id: e.templateId,
      variables: e.variables,
      priority: 'normal',
    },
    key,
  );
  const deliveries = rows.map((r) => ({ delivery_id: r.id, recipient: r.recipient, status: r.status, skip_reason: r.skipReason }));
  const text = deliveries
    .map((d) => `${e.channel} to ${d.recipient}: delivery ${d.delivery_id} ${d.status}${d.skip_reason ? ` (${d.skip_reason})` : ''}`)
    .join('\n');
  return { status: 'done', text, data: { channel: e.channel, deliveries } };
}

async function task(env: Env, db: DB, meta: RequestMeta, ownerId: number, key: string, e: Task): Promise<EffectOutcome> {
  const prior = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.ownerId, ownerId), eq(tasks.idempotencyKey, key)))
    .get();
  const row =
    prior ??
    (
      await submitTasks(env, db, meta, ownerId, [
        {
          name: `workflow node ${key}`,
          task_type: e.taskType as TaskType,
          priority: 'normal',
          payload: e.payload,
          delay_seconds: 0,
          timeout_seconds: 300,
          max_retries: 3,
          idempotency_key: key,
        },
      ])
    )[0]!.task;
  const data = { task_id: row.id, task_type: row.taskType, status: row.status };
  if (!e.wait) return { status: 'done', text: `task ${row.id} ${row.status}`, data };
  if (!TERMINAL.includes(row.status)) return { status: 'pending', data };
  const result = { ...data, result: row.result ?? null, error: row.error };
  if (row.status !== 'succeeded')
    return { status: 'failed', text: '', data: result, error: `task ${row.id} ${row.status}: ${row.error ?? 'no error recorded'}` };
  const text = typeof row.result === 'string' ? row.result : JSON.stringify(row.result ?? null);
  return { status: 'done', text, data: result };
}
