import { and, asc, desc, eq, inArray, lt } from 'drizzle-orm';
import type { DB } from '../db/client';
import { notificationAttempts, notificationDeliveries, tasks, type NotificationChannel } from '../db/schema';
import { ApiError } from '../lib/errors';
import type { RequestMeta } from '../lib/audit';
import { toIso, toIsoOrNull } from '../lib/time';
import { cancelTasks } from '../tasks';

type Delivery = typeof notificationDeliveries.$inferSelect;
type Attempt = typeof notificationAttempts.$inferSelect;
type TaskStatus = (typeof tasks.$inferSelect)['status'];

/**
 * A delivery's status as stored, except that a delivery whose task ended without sending reads
 * `failed` (dead letter, time budget) or `cancelled` even if no attempt got to say so.
 */
function statusOf(d: Delivery, task: TaskStatus | undefined) {
  if ((d.status === 'queued' || d.status === 'retrying') && task === 'cancelled') return 'cancelled' as const;
  if ((d.status === 'queued' || d.status === 'retrying') && task && ['failed', 'dead', 'timed_out'].includes(task))
    return 'failed' as const;
  return d.status;
}

export function deliveryView(d: Delivery, task?: TaskStatus, attempts?: Attempt[]) {
  return {
    id: d.id,
    batch_id: d.batchId,
    channel: d.channel,
    recipient: d.recipient,
    config: d.configName,
    subscription_id: d.subscriptionId,
    template_id: d.templateId,
    subject: d.subject,
    message: d.body,
    data: d.data ?? {},
    priority: d.priority,
    status: statusOf(d, task),
    skip_reason: d.skipReason,
    error: d.error,
    provider_status: d.providerStatus,
    provider_message_id: d.providerMessageId,
    attempts: d.attempts,
    task_id: d.taskId,
    send_at: toIso(d.sendAt),
    created_at: toIso(d.createdAt),
    finished_at: toIsoOrNull(d.finishedAt),
    ...(attempts
      ? {
          attempt_log: attempts.map((a) => ({
            attempt: a.attempt,
            status: a.status,
            retryable: a.retryable,
            response_code: a.responseCode,
            latency_ms: a.latencyMs,
            error: a.error,
            at: toIso(a.at),
          })),
        }
      : {}),
  };
}

async function taskStatuses(db: DB, rows: Delivery[]): Promise<Map<number, TaskStatus>> {
  const ids = rows.map((r) => r.taskId).filter((t): t is number => t !== null);
  if (!ids.length) return new Map();
  const found = await db.select({ id: tasks.id, status: tasks.status }).from(tasks).where(inArray(tasks.id, ids)).all();
  return new Map(found.map((t) => [t.id, t.status]));
}

/** Views for rows just written or listed, with their tasks' statuses folded in. */
export async function deliveryViews(db: DB, rows: Delivery[]) {
  const status = await taskStatuses(db, rows);
  return rows.map((r) => deliveryView(r, r.taskId === null ? undefined : status.get(r.taskId)));
}

export async function getDelivery(db: DB, ownerId: number, id: number) {
  const d = await db
    .select()
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.id, id), eq(notificationDeliveries.ownerId, ownerId)))
    .get();
  if (!d) throw new ApiError('not_found', 'Notification not found');
  const attempts = await db
    .select()
    .from(notificationAttempts)
    .where(eq(notificationAttempts.deliveryId, id))
    .orderBy(asc(notificationAttempts.attempt))
    .all();
  const status = await taskStatuses(db, [d]);
  return deliveryView(d, d.taskId === null ? undefined : status.get(d.taskId), attempts);
}

export type DeliveryFilter = {
  recipient?: string | undefined;
  channel?: NotificationChannel | undefined;
  status?: Delivery['status'] | undefined;
  batch_id?: string | undefined;
};

export function listDeliveries(db: DB, ownerId: number, f: DeliveryFilter, limit: number, before?: number) {
  return db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.ownerId, ownerId),
        f.recipient ? eq(notificationDeliveries.recipient, f.recipient) : undefined,
        f.channel ? eq(notificationDeliveries.channel, f.channel) : undefined,
        f.status ? eq(notificationDeliveries.status, f.status) : undefined,
        f.batch_id ? eq(notificationDeliveries.batchId, f.batch_id) : undefined,
        before ? lt(notificationDeliveries.id, before) : undefined,
      ),
    )
    .orderBy(desc(notificationDeliveries.id))
    .limit(limit + 1)
    .all();
}

/**
 * Cancels a notification that has not been sent yet (typically a scheduled one) by cancelling its
 * task. An attempt already under way is not interrupted: if it sends, the delivery reads `sent`.
 */
export async function cancelDelivery(env: Env, db: DB, meta: RequestMeta, ownerId: number, id: number) {
  const d = await db
    .select()
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.id, id), eq(notificationDeliveries.ownerId, ownerId)))
    .get();
  if (!d) throw new ApiError('not_found', 'Notification not found');
  if (d.taskId === null || (d.status !== 'queued' && d.status !== 'retrying'))
    throw new ApiError('conflict', `The notification is ${d.status}; only one waiting to be sent can be cancelled`);
  const [outcome] = await cancelTasks(env, db, meta, ownerId, [d.taskId], `notification ${d.id} was cancelled`);
  if (outcome?.outcome !== 'cancelled') throw new ApiError('conflict', 'The notification is already being sent or has finished');
  await db
    .update(notificationDeliveries)
    .set({ status: 'cancelled', finishedAt: Date.now() })
    .where(and(eq(notificationDeliveries.id, id), inArray(notificationDeliveries.status, ['queued', 'retrying'])));
  return getDelivery(db, ownerId, id);
}
