import { and, desc, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { pushSubscriptions } from '../db/schema';
import { ApiError } from '../lib/errors';
import { toIso } from '../lib/time';
import { openFor, sealFor } from '../lib/encryption';
import { guardUrl } from './channels/http';
import { ChannelError } from './channels/types';
import { fromB64url } from './webpush';

type Row = typeof pushSubscriptions.$inferSelect;

// The auth secret is what keeps push payloads private (RFC 8291 §3.2), so it is sealed; the
// endpoint stays clear for the (user, endpoint) uniqueness check.
const aad = (userId: number, endpoint: string) => `${userId}:${endpoint}`;

export const subscriptionView = (s: Row) => ({
  id: s.id,
  endpoint_origin: new URL(s.endpoint).origin,
  p256dh: s.p256dh,
  created_at: toIso(s.createdAt),
});

/** Stores a browser's PushSubscription (its `toJSON()`); the same endpoint again replaces the keys. */
export async function saveSubscription(
  env: Env,
  db: DB,
  userId: number,
  sub: { endpoint: string; keys: { p256dh: string; auth: string } },
) {
  try {
    guardUrl(env, sub.endpoint);
  } catch (err) {
    if (err instanceof ChannelError)
      throw new ApiError('validation_error', 'Request validation failed', {
        details: [{ path: ['endpoint'], code: 'custom', message: err.message }],
      });
    throw err;
  }
  let keyOk = false;
  try {
    const pub = fromB64url(sub.keys.p256dh);
    keyOk = pub.byteLength === 65 && pub[0] === 4 && fromB64url(sub.keys.auth).byteLength === 16;
    if (keyOk) await crypto.subtle.importKey('raw', pub, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  } catch {
    keyOk = false;
  }
  if (!keyOk)
    throw new ApiError('validation_error', 'Request validation failed', {
      details: [
        { path: ['keys'], code: 'custom', message: 'p256dh must be an uncompressed P-256 point and auth 16 bytes, both base64url' },
      ],
    });
  const auth = await sealFor(env, 'push_subscriptions', aad(userId, sub.endpoint), 'auth', sub.keys.auth);
  const row = await db
    .insert(pushSubscriptions)
    .values({ userId, endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth })
    .onConflictDoUpdate({ target: [pushSubscriptions.userId, pushSubscriptions.endpoint], set: { p256dh: sub.keys.p256dh, auth } })
    .returning()
    .get();
  return row;
}

export const listSubscriptions = (db: DB, userId: number) =>
  db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)).orderBy(desc(pushSubscriptions.id)).all();

export async function deleteSubscription(db: DB, userId: number, id: number): Promise<boolean> {
  const res = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, userId)))
    .run();
  return (res.meta.changes ?? 0) > 0;
}

/** One subscription with its auth secret opened, for a send; null when it was removed meanwhile. */
export async function openSubscription(env: Env, db: DB, id: number): Promise<{ endpoint: string; p256dh: string; auth: string } | null> {
  const row = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.id, id)).get();
  if (!row) return null;
  return {
    endpoint: row.endpoint,
    p256dh: row.p256dh,
    auth: await openFor(env, 'push_subscriptions', aad(row.userId, row.endpoint), 'auth', row.auth),
  };
}

/** RFC 8030 §7.3: a 404 or 410 means the subscription is gone for good; stop using it. */
export const dropSubscription = (db: DB, id: number) => db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id)).run();
