import { z } from '@hono/zod-openapi';
import { asc, inArray, sql } from 'drizzle-orm';
import { rawAll, type DB } from '../db/client';
import { workflowTags } from '../db/schema';

/** Tags are short labels: lower-case letters, digits and `. _ : / -`, so they need no quoting in a comma list. */
export const Tag = z
  .string()
  .max(50)
  .regex(
    /^[a-z0-9][a-z0-9._:/-]{0,49}$/,
    'lower-case letters, digits and . _ : / -, starting with a letter or digit, at most 50 characters',
  )
  .openapi({ example: 'marketing' });
export const MAX_TAGS = 20;

/** Each workflow's tags, sorted, for a page of workflows (one query for the page). */
export async function tagsOf(db: DB, ids: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const rows = await db
    .select({ workflowId: workflowTags.workflowId, tag: workflowTags.tag })
    .from(workflowTags)
    .where(inArray(workflowTags.workflowId, ids))
    .orderBy(asc(workflowTags.tag))
    .all();
  for (const r of rows) out.get(r.workflowId)?.push(r.tag);
  return out;
}

/**
 * Adds tags to a workflow (known ones are left as they are), for a batch. `workflowId` may be SQL
 * evaluated in the batch (the id of a workflow inserted just before). Returns the tags added.
 */
export const addTags = (db: DB, workflowId: number | ReturnType<typeof sql>, tags: string[]) =>
  rawAll<{ tag: string }>(
    db,
    sql`INSERT INTO workflow_tags (workflow_id, tag) SELECT ${workflowId}, value FROM json_each(${JSON.stringify(tags)})
    WHERE true ON CONFLICT (workflow_id, tag) DO NOTHING RETURNING tag`,
  );

export const removeTags = (db: DB, workflowId: number, tags: string[]) =>
  rawAll<{ tag: string }>(
    db,
    sql`DELETE FROM workflow_tags WHERE workflow_id = ${workflowId} AND tag IN (SELECT value FROM json_each(${JSON.stringify(tags)}))
    RETURNING tag`,
  );
