/** Counts for GET /stats, all from stored rows: the caller's own data, or everyone's for an admin. */
import { eq, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { recInteractions, recItems } from '../db/schema';
import { countModels } from './models';

export async function recommendationStats(db: DB, ownerId: number | null) {
  const byOwner = ownerId === null ? undefined : eq(recInteractions.ownerId, ownerId);
  const [totals, byType, items, models] = await Promise.all([
    db
      .select({
        interactions: sql<number>`count(*)`,
        users: sql<number>`count(distinct ${recInteractions.ownerId} || ':' || ${recInteractions.userKey})`,
        items: sql<number>`count(distinct ${recInteractions.ownerId} || ':' || ${recInteractions.itemKey})`,
      })
      .from(recInteractions)
      .where(byOwner),
    db.select({ type: recInteractions.type, n: sql<number>`count(*)` }).from(recInteractions).where(byOwner).groupBy(recInteractions.type),
    db
      .select({ n: sql<number>`count(*)` })
      .from(recItems)
      .where(ownerId === null ? undefined : eq(recItems.ownerId, ownerId)),
    countModels(db, ownerId),
  ]);
  const t = totals[0]!;
  const users = t.users;
  return {
    scope: ownerId === null ? ('all' as const) : ('own' as const),
    interactions: {
      total: t.interactions,
      by_type: Object.fromEntries(byType.map((r) => [r.type, r.n])),
      distinct_users: users,
      distinct_items: t.items,
      per_user: users ? Math.round((t.interactions / users) * 100) / 100 : 0,
    },
    items_with_features: items[0]!.n,
    models: {
      total: models.reduce((s, m) => s + m.total, 0),
      trained: models.reduce((s, m) => s + (m.trained ?? 0), 0),
      by_algorithm: Object.fromEntries(models.map((m) => [m.algorithm, m.total])),
    },
  };
}
