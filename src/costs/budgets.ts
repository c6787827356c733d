import { and, eq, gte, ne, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { costBudgets, runs } from '../db/schema';

/*
 * A user's monthly budget: a limit in USD over the runs they start in a calendar month (UTC; a
 * run counts in the month it was created). The user sets it; an administrator may set a ceiling
 * the user can lower but not raise. Each model call of a run is checked against what remains
 * before it is made (src/engine/budget.ts).
 */

/** The first instant of the month `at` falls in, UTC, and its name (`2026-12`). */
export function monthOf(at: number): { start: number; name: string } {
  const d = new Date(at);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), name: d.toISOString().slice(0, 7) };
}

export type Standing = { month: string; limitUsd: number | null; ceilingUsd: number | null; spentUsd: number };

/** A user's limit this month and what their runs (except `excludeRunId`) have spent so far. */
export async function monthlyStanding(db: DB, userId: number, at = Date.now(), excludeRunId?: number): Promise<Standing> {
  const { start, name } = monthOf(at);
  const [budget, spent] = await db.batch([
    db.select().from(costBudgets).where(eq(costBudgets.userId, userId)),
    db
      .select({ usd: sql<number>`coalesce(sum(${runs.costUsd}), 0)` })
      .from(runs)
      .where(and(eq(runs.ownerId, userId), gte(runs.createdAt, start), excludeRunId === undefined ? undefined : ne(runs.id, excludeRunId))),
  ]);
  return { month: name, limitUsd: budget[0]?.monthlyUsd ?? null, ceilingUsd: budget[0]?.ceilingUsd ?? null, spentUsd: spent[0]?.usd ?? 0 };
}
