/**
 * D1 reads and writes for recommendations. Every query is scoped by `owner_id`: each account has
 * its own dataset of interactions, items and models (admins may open any model, which then reads
 * its owner's data).
 */
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { recInteractions, recItems } from '../db/schema';
import type { InteractionRow } from './algorithms/matrix';
import type { ItemDoc } from './algorithms/scored';
import { interactionWeight, type InteractionType } from './weights';

/** Training reads at most this many interactions (the newest); see docs/api/recommendations.md, "Limits, honestly". */
export const MAX_TRAIN_INTERACTIONS = 100_000;
/** Content models and cold-start profiles read at most this many item documents. */
export const MAX_ITEM_DOCS = 20_000;

export type InteractionInput = {
  user_id: string;
  item_id: string;
  interaction_type: InteractionType;
  rating?: number | undefined;
  event_id?: string | undefined;
};
export type ItemInput = { item_id: string; features?: Record<string, string | number | boolean> | undefined; content?: string | undefined };

// D1 binds at most 100 parameters per statement: 7 columns × 14 rows and 4 × 20 stay under it.
const INTERACTIONS_PER_STATEMENT = 14;
const ITEMS_PER_STATEMENT = 20;

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Stores interactions in one `db.batch` (one D1 transaction): all or none. An `event_id` already
 * stored for this owner is skipped, so a retried request adds nothing.
 */
export async function insertInteractions(db: DB, ownerId: number, inputs: readonly InteractionInput[]) {
  const values = inputs.map((i) => ({
    ownerId,
    userKey: i.user_id,
    itemKey: i.item_id,
    type: i.interaction_type,
    rating: i.rating ?? null,
    weight: interactionWeight(i.interaction_type, i.rating),
    eventId: i.event_id ?? null,
  }));
  const statements = chunks(values, INTERACTIONS_PER_STATEMENT).map((c) =>
    db.insert(recInteractions).values(c).onConflictDoNothing().returning(),
  );
  const [first, ...rest] = statements;
  if (!first) return [];
  const results = await db.batch([first, ...rest]);
  return results.flat();
}

export async function upsertItems(db: DB, ownerId: number, inputs: readonly ItemInput[]) {
  const values = inputs.map((i) => ({
    ownerId,
    itemKey: i.item_id,
    features: i.features ?? {},
    content: i.content ?? '',
    updatedAt: Date.now(),
  }));
  const statements = chunks(values, ITEMS_PER_STATEMENT).map((c) =>
    db
      .insert(recItems)
      .values(c)
      .onConflictDoUpdate({
        target: [recItems.ownerId, recItems.itemKey],
        set: { features: sql`excluded.features`, content: sql`excluded.content`, updatedAt: sql`excluded.updated_at` },
      })
      .returning(),
  );
  const [first, ...rest] = statements;
  if (!first) return [];
  return (await db.batch([first, ...rest])).flat();
}

const rowColumns = {
  userKey: recInteractions.userKey,
  itemKey: recInteractions.itemKey,
  weight: recInteractions.weight,
  type: recInteractions.type,
  rating: recInteractions.rating,
};

/** The owner's newest interactions, up to the training cap. */
export async function trainingRows(db: DB, ownerId: number): Promise<InteractionRow[]> {
  return db
    .select(rowColumns)
    .from(recInteractions)
    .where(eq(recInteractions.ownerId, ownerId))
    .orderBy(desc(recInteractions.id))
    .limit(MAX_TRAIN_INTERACTIONS);
}

/** A request never reads more popular items than this (what it can show plus what it must skip). */
export const MAX_POPULAR = 1000;

/*
 * The two reads of every recommendation, as fixed SQL on the D1 binding: under load (bench
 * scenario 7) drizzle building these two selects on each request was about a tenth of the
 * isolate's CPU. The user's rows use the (owner_id, user_key) index; popularity reads
 * rec_item_popularity, which triggers keep equal to `sum(weight) GROUP BY item_key` over
 * rec_interactions, through its covering (owner_id, total desc, item_key) index, so its cost is
 * `limit` index rows whatever the number of interactions.
 */
const USER_ROWS_SQL =
  'SELECT user_key AS userKey, item_key AS itemKey, weight, type, rating FROM rec_interactions WHERE owner_id = ?1 AND user_key = ?2 LIMIT ?3';
const POPULAR_SQL = 'SELECT item_key AS item, total FROM rec_item_popularity WHERE owner_id = ?1 ORDER BY total DESC, item_key LIMIT ?2';

const popularStatement = (db: DB, ownerId: number, limit: number) =>
  db.$client.prepare(POPULAR_SQL).bind(ownerId, Math.min(limit, MAX_POPULAR));
const byItem = (rows: Array<{ item: string; total: number }>) => new Map(rows.map((r) => [r.item, r.total]));

/** The `limit` heaviest items by total interaction weight, heaviest first (ties by item key) — live, so popularity never needs a retrain. */
export async function popularity(db: DB, ownerId: number, limit = MAX_POPULAR): Promise<Map<string, number>> {
  return byItem((await popularStatement(db, ownerId, limit).all<{ item: string; total: number }>()).results);
}

/** A user's rows and the popular items together: one D1 round trip (a batch) instead of two. */
export async function userRowsAndPopularity(
  db: DB,
  ownerId: number,
  userKey: string | undefined,
  limit: number,
): Promise<[InteractionRow[], Map<string, number>]> {
  if (userKey === undefined) return [[], await popularity(db, ownerId, limit)];
  const [mine, top] = await db.$client.batch<InteractionRow | { item: string; total: number }>([
    db.$client.prepare(USER_ROWS_SQL).bind(ownerId, userKey, MAX_TRAIN_INTERACTIONS),
    popularStatement(db, ownerId, limit),
  ]);
  // Rows of our own tables, shaped by the column aliases above.
  return [mine!.results as InteractionRow[], byItem(top!.results as Array<{ item: string; total: number }>)];
}

/** Item documents, optionally only those changed after `since` (ms). */
export async function itemDocs(db: DB, ownerId: number, since?: number): Promise<Map<string, ItemDoc>> {
  const where = since === undefined ? eq(recItems.ownerId, ownerId) : and(eq(recItems.ownerId, ownerId), gt(recItems.updatedAt, since));
  const rows = await db.select().from(recItems).where(where).orderBy(recItems.itemKey).limit(MAX_ITEM_DOCS);
  return new Map(rows.map((r) => [r.itemKey, { features: r.features, content: r.content }]));
}
