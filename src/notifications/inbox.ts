import { and, count, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { notifications, type NOTIFICATION_PRIORITIES } from '../db/schema';
import { log } from '../lib/log';
import { toIso, toIsoOrNull } from '../lib/time';
import { userChannel, hubStub } from '../realtime';

export type InAppMessage = {
  category: string;
  title: string;
  body: string;
  data?: Record<string, unknown>;
  priority?: (typeof NOTIFICATION_PRIORITIES)[number];
  /** Same key for the same recipient stores (and pushes) nothing the second time. */
  dedupeKey?: string;
};

type Row = typeof notifications.$inferSelect;

export const notificationView = (n: Row) => ({
  id: n.id,
  category: n.category,
  title: n.title,
  body: n.body,
  data: n.data ?? {},
  priority: n.priority,
  created_at: toIso(n.createdAt),
  read_at: toIsoOrNull(n.readAt),
});

/**
 * Stores an in-app notification and pushes it to the recipient's open WebSocket connections
 * (frame `{type: "notification", data: {type: "inbox", notification}}`). The row is the truth:
 * a client that was offline reads it from the inbox later, so a failed push loses nothing and
 * is only logged. Returns null when the dedupe key was already used for this recipient.
 */
export async function deliverInApp(env: Env, db: DB, userId: number, m: InAppMessage): Promise<ReturnType<typeof notificationView> | null> {
  const row = await db
    .insert(notifications)
    .values({
      userId,
      category: m.category,
      title: m.title,
      body: m.body,
      data: m.data ?? null,
      priority: m.priority ?? 'normal',
      dedupeKey: m.dedupeKey ?? null,
    })
    .onConflictDoNothing()
    .returning()
    .get();
  if (!row) return null;
  const view = notificationView(row);
  try {
    await hubStub(env, userChannel(userId)).notify({ type: 'inbox', notification: view });
  } catch (err) {
    log(env.LOG_LEVEL, 'warn', 'live notification push failed; it stays in the inbox', { userId, id: row.id, error: String(err) });
  }
  return view;
}

export function listInbox(db: DB, userId: number, unreadOnly: boolean, limit: number, before?: number) {
  const where = [eq(notifications.userId, userId)];
  if (unreadOnly) where.push(isNull(notifications.readAt));
  if (before !== undefined) where.push(lt(notifications.id, before));
  return db
    .select()
    .from(notifications)
    .where(and(...where))
    .orderBy(desc(notifications.id))
    .limit(limit + 1)
    .all();
}

export async function unreadCount(db: DB, userId: number): Promise<number> {
  const row = await db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)))
    .get();
  return row?.n ?? 0;
}

/** Marks one of the user's notifications read (keeping the first read time); null if not theirs. */
export async function markRead(db: DB, userId: number, id: number): Promise<Row | null> {
  const row = await db
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, ${Date.now()})` })
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
    .returning()
    .get();
  return row ?? null;
}

export async function markAllRead(db: DB, userId: number): Promise<number> {
  const res = await db
    .update(notifications)
    .set({ readAt: Date.now() })
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)))
    .run();
  return res.meta.changes ?? 0;
}

export async function deleteNotification(db: DB, userId: number, id: number): Promise<boolean> {
  const res = await db
    .delete(notifications)
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
    .run();
  return (res.meta.changes ?? 0) > 0;
}
