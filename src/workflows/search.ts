import { and, asc, desc, eq, gte, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { type RunStatus, runs, workflows, workflowTags } from '../db/schema';
import { decodeKeyset, encodeKeyset } from '../lib/pagination';
import type { WorkflowRow } from './queries';

export const SORTS = ['created_at', 'updated_at', 'name'] as const;
export type Sort = (typeof SORTS)[number];

export type WorkflowFilter = {
  q?: string | undefined;
  /** Every one of these tags. */
  tags?: string[] | undefined;
  /** Every one of these node types, at the top level or as a map node's item node. */
  nodeTypes?: string[] | undefined;
  createdAfter?: number | undefined;
  createdBefore?: number | undefined;
  updatedAfter?: number | undefined;
  updatedBefore?: number | undefined;
  /** The status of the newest run, or `none` for workflows never run. */
  lastRunStatus?: RunStatus | 'none' | undefined;
  archived: 'false' | 'true' | 'all';
  sort: Sort;
  order: 'asc' | 'desc';
};

/** `%` and `_` in the user's text match themselves, not any character. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const lastRunStatus = sql`(SELECT ${runs.status} FROM ${runs} WHERE ${runs.workflowId} = ${workflows.id} ORDER BY ${runs.id} DESC LIMIT 1)`;

function conditions(ownerId: number, f: WorkflowFilter): (SQL | undefined)[] {
  return [
    eq(workflows.ownerId, ownerId),
    isNull(workflows.deletedAt),
    f.archived === 'all' ? undefined : f.archived === 'true' ? isNotNull(workflows.archivedAt) : isNull(workflows.archivedAt),
    f.q
      ? or(sql`${workflows.name} LIKE ${likePattern(f.q)} ESCAPE '\\'`, sql`${workflows.description} LIKE ${likePattern(f.q)} ESCAPE '\\'`)
      : undefined,
    ...(f.tags ?? []).map(
      (t) => sql`EXISTS (SELECT 1 FROM ${workflowTags} WHERE ${workflowTags.workflowId} = ${workflows.id} AND ${workflowTags.tag} = ${t})`,
    ),
    ...(f.nodeTypes ?? []).map(
      (t) => sql`EXISTS (SELECT 1 FROM json_each(${workflows.nodes}) AS n
        WHERE json_extract(n.value, '$.type') = ${t} OR json_extract(n.value, '$.node.type') = ${t})`,
    ),
    f.createdAfter !== undefined ? gte(workflows.createdAt, f.createdAfter) : undefined,
    f.createdBefore !== undefined ? lt(workflows.createdAt, f.createdBefore) : undefined,
    f.updatedAfter !== undefined ? gte(workflows.updatedAt, f.updatedAfter) : undefined,
    f.updatedBefore !== undefined ? lt(workflows.updatedAt, f.updatedBefore) : undefined,
    f.lastRunStatus === 'none'
      ? sql`NOT EXISTS (SELECT 1 FROM ${runs} WHERE ${runs.workflowId} = ${workflows.id})`
      : f.lastRunStatus
        ? sql`${lastRunStatus} = ${f.lastRunStatus}`
        : undefined,
  ];
}

/*
 * Keyset pagination for every sort: rows are ordered by (sort key, id) and the cursor holds the
 * last row's pair, so a page never repeats or skips a row while others are added. Creation order
 * is the id order (ids only grow), so `created_at` walks the id alone, like every other list.
 */
function sortKey(sort: Sort): SQL | null {
  if (sort === 'updated_at') return sql`${workflows.updatedAt}`;
  if (sort === 'name') return sql`${workflows.name} COLLATE NOCASE`;
  return null;
}

function after(sort: Sort, order: 'asc' | 'desc', cursor: string | undefined): SQL | undefined {
  const k = decodeKeyset(cursor, `${sort}:${order}`);
  if (!k) return undefined;
  const cmp = order === 'desc' ? lt : (a: SQL | typeof workflows.id, b: unknown) => sql`${a} > ${b}`;
  const key = sortKey(sort);
  if (!key) return cmp(workflows.id, k.id);
  return or(order === 'desc' ? sql`${key} < ${k.value}` : sql`${key} > ${k.value}`, and(sql`${key} = ${k.value}`, cmp(workflows.id, k.id)));
}

export type WorkflowListRow = WorkflowRow & { lastRunStatus: RunStatus | null };

/** The owner's workflows matching every given filter, one page in the requested order, and the next page's cursor. */
export async function searchWorkflows(db: DB, ownerId: number, f: WorkflowFilter, limit: number, cursor?: string) {
  const key = sortKey(f.sort);
  const dir = f.order === 'desc' ? desc : asc;
  const rows = await db
    .select({ w: workflows, lastRunStatus: sql<RunStatus | null>`${lastRunStatus}` })
    .from(workflows)
    .where(and(...conditions(ownerId, f), after(f.sort, f.order, cursor)))
    .orderBy(...(key ? [f.order === 'desc' ? sql`${key} DESC` : sql`${key} ASC`] : []), dir(workflows.id))
    .limit(limit + 1)
    .all();
  const items: WorkflowListRow[] = rows.slice(0, limit).map((r) => ({ ...r.w, lastRunStatus: r.lastRunStatus }));
  const last = items.at(-1);
  const next =
    rows.length > limit && last
      ? encodeKeyset({
          sort: `${f.sort}:${f.order}`,
          value: f.sort === 'name' ? last.name : f.sort === 'updated_at' ? last.updatedAt : last.id,
          id: last.id,
        })
      : null;
  return { items, next };
}

/** Workflows by id, only the owner's live ones (for bulk operations and exports). */
export async function ownedWorkflows(db: DB, ownerId: number, ids: number[]): Promise<Map<number, WorkflowRow>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select()
    .from(workflows)
    .where(
      and(
        eq(workflows.ownerId, ownerId),
        isNull(workflows.deletedAt),
        sql`${workflows.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`,
      ),
    )
    .all();
  return new Map(rows.map((r) => [r.id, r]));
}
