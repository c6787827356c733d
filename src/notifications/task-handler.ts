import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { DB } from '../db/client';
import { notificationDeliveries } from '../db/schema';
import { invalidField } from '../lib/errors';
import { TaskError, taskHandler } from '../tasks';
import { attemptDelivery } from './deliver';

/** Made by the notifications API (send.ts), one per notification. */
const NotificationDeliveryPayload = z.object({ delivery_id: z.number().int().positive() }).strict();

/** The owner's delivery, stored and not yet handed to a task. */
async function pendingDelivery(db: DB, ownerId: number, id: number): Promise<boolean> {
  const row = await db
    .select({ id: notificationDeliveries.id })
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.id, id),
        eq(notificationDeliveries.ownerId, ownerId),
        eq(notificationDeliveries.status, 'queued'),
        isNull(notificationDeliveries.taskId),
      ),
    )
    .get();
  return row !== undefined;
}

export const notificationsTaskHandlers = {
  /**
   * notification_delivery: one attempt at one notification (deliver.ts). The notification's own
   * rows (sent, attempt, effect) join the batch that marks the task succeeded; a failure is retried
   * with the task layer's backoff only when the provider's answer allows it, and no sooner than
   * the provider asked (Retry-After, Discord's retry_after).
   */
  notification_delivery: taskHandler({
    payload: NotificationDeliveryPayload,
    async check(c, p) {
      if (!(await pendingDelivery(c.db, c.ownerId, p.delivery_id)))
        throw invalidField(
          [...c.at, 'delivery_id'],
          'not one of your notifications waiting to be sent; send notifications through /api/v3/notifications/send',
        );
    },
    async run({ env, db, task, now, deadline }, p) {
      const verdict = await attemptDelivery(env, db, task, p.delivery_id, now, deadline);
      if (verdict.kind === 'failed') throw new TaskError(verdict.message, verdict.retryable, verdict.retryAfterMs);
      return { kind: 'succeeded', result: verdict.result, statements: verdict.statements };
    },
  }),
};
