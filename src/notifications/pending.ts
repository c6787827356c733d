import { and, eq, isNull } from 'drizzle-orm';
import type { DB } from '../db/client';
import { notificationDeliveries } from '../db/schema';

// Kept apart from the rest of src/notifications so the task layer imports nothing that imports it back.
/** For the task layer's payload check: the owner's delivery, stored and not yet handed to a task. */
export async function pendingDelivery(db: DB, ownerId: number, id: number): Promise<boolean> {
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
