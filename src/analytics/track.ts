import { and, eq, gte, inArray, isNull, like, sql } from 'drizzle-orm';
import { rawAll, type DB } from '../db/client';
import { analyticsEvents, workflows } from '../db/schema';
import { ApiError } from '../lib/errors';

export type TrackedEvent = {
  type: string;
  userId: number | null;
  workflowId?: number | null;
  at?: number;
  properties?: Record<string, unknown> | null;
  /** Unique per fact: a second write with the same key stores nothing (a retry, a redelivery). */
  dedupeKey: string;
};

/**
 * An analytics event insert, not yet executed: put it in the same `db.batch` as the change it
 * describes (D1 runs a batch as one transaction), or run it alone when nothing else is written.
 *
 * @example await db.batch([db.update(x)…, track(db, { type: 'thing.done', userId, dedupeKey: `thing.done:${id}` })]);
 */
export function track(db: DB, e: TrackedEvent) {
  return db
    .insert(analyticsEvents)
    .values({
      type: e.type,
      userId: e.userId,
      workflowId: e.workflowId ?? null,
      at: e.at ?? Date.now(),
      properties: e.properties ?? null,
      dedupeKey: e.dedupeKey,
    })
    .onConflictDoNothing();
}

/**
 * `api_key.used`, at most once per key per minute (the resolution `last_used_at` is kept at):
 * one write per request would double the writes of every API-key request. The unique key makes
 * concurrent requests in the same minute store one row. The owner is read inside the statement.
 */
export async function trackApiKeyUse(db: DB, keyId: number, now = Date.now()): Promise<void> {
  const minute = Math.floor(now / 60_000) * 60_000;
  await db.run(sql`INSERT INTO analytics_events (type, user_id, at, properties, dedupe_key)
    SELECT 'api_key.used', user_id, ${minute}, ${JSON.stringify({ api_key_id: keyId })}, ${`api_key.used:${keyId}:${minute}`}
    FROM api_keys WHERE id = ${keyId}
    ON CONFLICT (dedupe_key) DO NOTHING`);
}

/** Custom events a user may store per rolling 24 hours. */
export const CUSTOM_EVENTS_PER_DAY = 10_000;
/** How far back a client may date an event (late delivery from an offline client), and ahead (clock skew). */
export const MAX_BACKDATE_MS = 7 * 86_400_000;
export const MAX_FUTURE_MS = 5 * 60_000;

export type CustomEvent = {
  name: string;
  occurred_at?: string | undefined;
  workflow_id?: number | undefined;
  properties?: Record<string, unknown> | undefined;
  event_id?: string | undefined;
};
export type CustomOutcome = { name: string; event_id: string | null; outcome: 'stored' | 'duplicate' | 'over_quota' };

/**
 * Stores a client's events. A bad date or a workflow the caller cannot see refuses the whole
 * request (400/404), and so does a batch that would pass the daily cap (429). `event_id` makes a re-post of the
 * same event (a client retry) a `duplicate` instead of a second event; without one every post
 * counts. The cap is re-checked inside each insert, so concurrent posts cannot pass it together;
 * an event refused by that re-check is reported as `over_quota`.
 */
export async function storeCustomEvents(
  db: DB,
  user: { id: number; admin: boolean },
  events: CustomEvent[],
  now = Date.now(),
): Promise<CustomOutcome[]> {
  const at = events.map((e) => (e.occurred_at === undefined ? now : Date.parse(e.occurred_at)));
  at.forEach((t, i) => {
    if (t < now - MAX_BACKDATE_MS || t > now + MAX_FUTURE_MS)
      throw new ApiError('bad_request', `events[${i}].occurred_at must be within the last 7 days`);
  });
  const wanted = [...new Set(events.flatMap((e) => (e.workflow_id === undefined ? [] : [e.workflow_id])))];
  if (wanted.length) {
    const visible = await db
      .select({ id: workflows.id })
      .from(workflows)
      .where(and(inArray(workflows.id, wanted), isNull(workflows.deletedAt), user.admin ? undefined : eq(workflows.ownerId, user.id)))
      .all();
    if (visible.length !== wanted.length) throw new ApiError('not_found', 'Workflow not found');
  }
  const since = now - 86_400_000;
  const ownCustom = and(eq(analyticsEvents.userId, user.id), like(analyticsEvents.type, 'custom.%'), gte(analyticsEvents.createdAt, since));
  const used = await db
    .select({ n: sql<number>`count(*)`, oldest: sql<number | null>`min(created_at)` })
    .from(analyticsEvents)
    .where(ownCustom)
    .get();
  if ((used?.n ?? 0) + events.length > CUSTOM_EVENTS_PER_DAY) {
    const retryAfter = Math.max(1, Math.ceil(((used?.oldest ?? now) + 86_400_000 - now) / 1000));
    throw new ApiError('rate_limited', `At most ${CUSTOM_EVENTS_PER_DAY} custom events per 24 hours`, {
      headers: { 'Retry-After': String(retryAfter) },
    });
  }
  const keys = events.map((e) =>
    e.event_id === undefined ? `custom:${user.id}:${crypto.randomUUID()}` : `custom:${user.id}:${e.event_id}`,
  );
  const inserts = events.map((e, i) =>
    rawAll<{ id: number }>(
      db,
      sql`INSERT INTO analytics_events (type, user_id, workflow_id, at, properties, dedupe_key)
      SELECT ${`custom.${e.name}`}, ${user.id}, ${e.workflow_id ?? null}, ${at[i]!}, ${e.properties ? JSON.stringify(e.properties) : null}, ${keys[i]!}
      WHERE (SELECT count(*) FROM analytics_events WHERE user_id = ${user.id} AND type LIKE 'custom.%' AND created_at >= ${since}) < ${CUSTOM_EVENTS_PER_DAY}
      ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    ),
  );
  const results = await db.batch(inserts as [(typeof inserts)[number], ...(typeof inserts)[number][]]);
  const notStored = keys.filter((_, i) => results[i]!.length === 0);
  const existing = notStored.length
    ? new Set(
        (
          await db.select({ k: analyticsEvents.dedupeKey }).from(analyticsEvents).where(inArray(analyticsEvents.dedupeKey, notStored)).all()
        ).map((r) => r.k),
      )
    : new Set<string>();
  return events.map((e, i) => {
    if (results[i]!.length > 0) return { name: e.name, event_id: e.event_id ?? null, outcome: 'stored' as const };
    // Not stored and not already there: a concurrent request used up the quota after the check above.
    return {
      name: e.name,
      event_id: e.event_id ?? null,
      outcome: existing.has(keys[i]!) ? ('duplicate' as const) : ('over_quota' as const),
    };
  });
}
