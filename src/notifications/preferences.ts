import { and, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { NOTIFICATION_CHANNELS, notificationPreferences, type NotificationChannel } from '../db/schema';

/** Every channel with whether the user receives it (true unless they opted out). */
export async function getPreferences(db: DB, userId: number): Promise<Record<NotificationChannel, boolean>> {
  const rows = await db.select().from(notificationPreferences).where(eq(notificationPreferences.userId, userId)).all();
  const out = Object.fromEntries(NOTIFICATION_CHANNELS.map((c) => [c, true])) as Record<NotificationChannel, boolean>;
  for (const r of rows) out[r.channel] = !r.optedOut;
  return out;
}

/** Sets the channels given (true: receive, false: opt out); the others keep their setting. */
export async function setPreferences(db: DB, userId: number, channels: Partial<Record<NotificationChannel, boolean>>) {
  const now = Date.now();
  const statements = Object.entries(channels).map(([channel, receive]) =>
    db
      .insert(notificationPreferences)
      .values({ userId, channel: channel as NotificationChannel, optedOut: !receive, updatedAt: now })
      .onConflictDoUpdate({
        target: [notificationPreferences.userId, notificationPreferences.channel],
        set: { optedOut: !receive, updatedAt: now },
      }),
  );
  if (statements.length) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  return getPreferences(db, userId);
}

export async function optedOut(db: DB, userId: number, channel: NotificationChannel): Promise<boolean> {
  const row = await db
    .select()
    .from(notificationPreferences)
    .where(and(eq(notificationPreferences.userId, userId), eq(notificationPreferences.channel, channel)))
    .get();
  return row?.optedOut ?? false;
}
