import { and, desc, eq, gte, lt, or, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { errorGroups } from '../db/schema';
import { decodeKeyset, encodeKeyset } from '../lib/pagination';
import { describeError, fingerprint } from './fingerprint';

/**
 * Counts an occurrence in its group: one upsert, so concurrent occurrences on different isolates
 * each add one (SQLite runs the statement atomically); the first one writes the sample.
 */
export async function recordError(db: DB, err: unknown, o: { route: string; requestId: string; at?: number }): Promise<string> {
  const d = describeError(err, o.route);
  const fp = await fingerprint(d);
  const at = o.at ?? Date.now();
  await db
    .insert(errorGroups)
    .values({
      fingerprint: fp,
      name: d.name,
      message: d.message,
      route: d.route,
      count: 1,
      firstSeen: at,
      lastSeen: at,
      sampleRequestId: o.requestId,
      sampleMessage: d.sampleMessage,
      sampleStack: d.stack,
    })
    .onConflictDoUpdate({
      target: errorGroups.fingerprint,
      set: {
        count: sql`${errorGroups.count} + 1`,
        lastSeen: sql`max(${errorGroups.lastSeen}, excluded.last_seen)`,
        sampleRequestId: sql`excluded.sample_request_id`,
      },
    });
  return fp;
}

export type ErrorGroupView = ReturnType<typeof view>;

const view = (r: typeof errorGroups.$inferSelect) => ({
  id: r.id,
  fingerprint: r.fingerprint,
  name: r.name,
  message: r.message,
  route: r.route,
  count: r.count,
  first_seen: new Date(r.firstSeen).toISOString(),
  last_seen: new Date(r.lastSeen).toISOString(),
  sample: { request_id: r.sampleRequestId, message: r.sampleMessage, stack: r.sampleStack },
});

/** Groups, most recently seen first, keyset-paginated on (last_seen, id). */
export async function listErrorGroups(db: DB, q: { limit: number; cursor?: string | undefined; since?: number | undefined }) {
  const after = decodeKeyset(q.cursor, 'last_seen');
  const rows = await db
    .select()
    .from(errorGroups)
    .where(
      and(
        q.since === undefined ? undefined : gte(errorGroups.lastSeen, q.since),
        after
          ? or(
              lt(errorGroups.lastSeen, Number(after.value)),
              and(eq(errorGroups.lastSeen, Number(after.value)), lt(errorGroups.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(errorGroups.lastSeen), desc(errorGroups.id))
    .limit(q.limit + 1);
  const items = rows.slice(0, q.limit);
  const last = items.at(-1);
  return {
    items: items.map(view),
    next_cursor: rows.length > q.limit && last ? encodeKeyset({ sort: 'last_seen', value: last.lastSeen, id: last.id }) : null,
  };
}

export async function getErrorGroup(db: DB, id: number) {
  const row = await db.select().from(errorGroups).where(eq(errorGroups.id, id)).get();
  return row ? view(row) : null;
}
