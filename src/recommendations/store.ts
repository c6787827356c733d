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

/** Training reads at most this many interactions (the newest); see README "Limits". */
export const MAX_TRAIN_INTERACTIONS = 100_000;
/** Content models and cold-start profiles read at most this many item documents. */
export const MAX_ITEM_DOCS = 20_000;

export type InteractionInput = { user_id: string; item_id: string; interaction_type: InteractionType; rating?: number | undefined; event_id?: string | undefined };
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
  const statements = chunks(values, INTERACTIONS_PER_STATEMENT).map((c) => db.insert(recInteractions).values(c).onConflictDoNothing().returning());
  const [first, ...rest] = statements;
  if (!first) return [];
  const results = await db.batch([first, ...rest]);
  return results.flat();
}

export async function upsertItems(db: DB, ownerId: number, inputs: readonly ItemInput[]) {
  const values = inputs.map((i) => ({ ownerId, itemKey: i.item_id, features: i.features ?? {}, content: i.content ?? '', updatedAt: Date.now() }));
  const statements = chunks(values, ITEMS_PER_STATEMENT).map((c) =>
    db
      .insert(recItems)
      .values(c)
      .onConflictDoUpdate({ target: [recItems.ownerId, recItems.itemKey], set: { features: sql`excluded.features`, content: sql`excluded.content`, updatedAt: sql`excluded.updated_at` } })
      .returning(),
  );
  const [first, ...rest] = statements;
  if (!first) return [];
  return (await db.batch([first, ...rest])).flat();
}

const rowColumns = { userKey: recInteractions.userKey, itemKey: recInteractions.itemKey, weight: recInteractions.weight, type: recInteractions.type, rating: recInteractions.rating };

/** The owner's newest interactions, up to the training cap. */
export async function trainingRows(db: DB, ownerId: number): Promise<InteractionRow[]> {
  return db.select(rowColumns).from(recInteractions).where(eq(recInteractions.ownerId, ownerId)).orderBy(desc(recInteractions.id)).limit(MAX_TRAIN_INTERACTIONS);
}

export async function userRows(db: DB, ownerId: number, userKey: string): Promise<InteractionRow[]> {
  return db.select(rowColumns).from(recInteractions).where(and(eq(recInteractions.ownerId, ownerId), eq(recInteractions.userKey, userKey))).limit(MAX_TRAIN_INTERACTIONS);
}

/** Total interaction weight per item, heaviest first — live, so popularity never needs a retrain. */
export async function popularity(db: DB, ownerId: number, limit = 1000): Promise<Map<string, number>> {
  const total = sql<number>`sum(${recInteractions.weight})`;
  const rows = await db
    .select({ item: recInteractions.itemKey, total })
    .from(recInteractions)
    .where(eq(recInteractions.ownerId, ownerId))
    .groupBy(recInteractions.itemKey)
    .orderBy(desc(total), recInteractions.itemKey)
    .limit(limit);
  return new Map(rows.map((r) => [r.item, r.total]));
}

/** Item documents, optionally only those changed after `since` (ms). */
export async function itemDocs(db: DB, ownerId: number, since?: number): Promise<Map<string, ItemDoc>> {
  const where = since === undefined ? eq(recItems.ownerId, ownerId) : and(eq(recItems.ownerId, ownerId), gt(recItems.updatedAt, since));
  const rows = await db.select().from(recItems).where(where).orderBy(recItems.itemKey).limit(MAX_ITEM_DOCS);
  return new Map(rows.map((r) => [r.itemKey, { features: r.features, content: r.content }]));
}
