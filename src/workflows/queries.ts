import { z } from '@hono/zod-openapi';
import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import { preparedOnce, rawRun, type DB } from '../db/client';
import { type RunStatus, workflows, workflowVersions } from '../db/schema';
import { ApiError } from '../lib/errors';
import { toIso } from '../lib/time';
import type { WorkflowNode, WorkflowSettings } from '../engine';
import { cached, type CacheScope } from '../cache';
import { addTags } from './tags';

export type WorkflowRow = typeof workflows.$inferSelect;
export type WorkflowInput = { name: string; description?: string | null | undefined; nodes: WorkflowNode[]; settings: WorkflowSettings };

export function publicWorkflow(w: WorkflowRow, tags: string[] = []) {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    version: w.version,
    nodes: w.nodes as WorkflowNode[],
    settings: w.settings as WorkflowSettings,
    tags,
    archived: w.archivedAt !== null,
    owner_id: w.ownerId,
    created_at: toIso(w.createdAt),
    updated_at: toIso(w.updatedAt),
  };
}

export function workflowSummary(w: WorkflowRow & { lastRunStatus: RunStatus | null }, tags: string[]) {
  const { nodes, settings, ...rest } = publicWorkflow(w, tags);
  void settings;
  return { ...rest, node_count: nodes.length, last_run_status: w.lastRunStatus };
}

/** Subchain nodes may only start workflows that exist and belong to the same owner. */
async function checkSubchains(db: DB, ownerId: number, nodes: WorkflowNode[], selfId?: number) {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [i, n] of nodes.entries()) {
    if (n.type !== 'subchain') continue;
    if (n.workflow_id === selfId) issues.push({ path: ['nodes', i, 'workflow_id'], message: 'a workflow cannot run itself as a subchain' });
    else if (!(await getWorkflow(db, ownerId, n.workflow_id))) {
      issues.push({ path: ['nodes', i, 'workflow_id'], message: `workflow ${n.workflow_id} not found` });
    }
  }
  if (issues.length) throw new ApiError('validation_error', 'Request validation failed', { details: issues });
}

/**
 * The `workflow.created` (version 1) or `workflow.updated` domain event of a version, for the batch
 * that writes it, built in SQL from the stored row: a new workflow's id is only known there, and
 * an update that lost its compare-and-set wrote no row of that version, so it raises nothing.
 */
export function versionEvent(db: DB, id: SQL | number, version: number, created = version === 1) {
  const eventId = sql`'workflow:' || w.id || ':v' || w.version`;
  return rawRun(
    db,
    sql`INSERT INTO event_outbox (event_id, body)
    SELECT ${eventId}, json_object('id', ${eventId}, 'type', ${created ? 'workflow.created' : 'workflow.updated'},
      'ownerId', w.owner_id, 'at', w.updated_at, 'data', json_object('workflow_id', w.id, 'version', w.version, 'name', w.name),
      'effectRef', NULL)
    FROM workflows w WHERE w.id = ${id} AND w.version = ${version}
    ON CONFLICT (event_id) DO NOTHING`,
  );
}

export async function createWorkflow(
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  input: WorkflowInput & { tags?: string[] | undefined },
): Promise<WorkflowRow> {
  await checkSubchains(db, ownerId, input.nodes);
  // The batch is one transaction and D1 serialises writes, so inside it the newest workflow
  // id is the one this batch just inserted.
  const newId = sql`(SELECT max(id) FROM workflows)`;
  const [inserted] = await db.batch([
    db
      .insert(workflows)
      .values({ ownerId, name: input.name, description: input.description ?? null, nodes: input.nodes, settings: input.settings })
      .returning(),
    db.insert(workflowVersions).values({
      workflowId: newId,
      version: 1,
      name: input.name,
      description: input.description ?? null,
      nodes: input.nodes,
      settings: input.settings,
      createdBy: ownerId,
    }),
    auditInsert(db, meta, {
      action: 'workflow.create',
      targetType: 'workflow',
      targetId: sql`CAST(${newId} AS TEXT)`,
      details: { version: 1 },
    }),
    versionEvent(db, newId, 1),
    addTags(db, newId, input.tags ?? []),
  ]);
  return inserted[0]!;
}

const workflowQuery = preparedOnce((db) =>
  db
    .select()
    .from(workflows)
    .where(and(eq(workflows.id, sql.placeholder('id')), eq(workflows.ownerId, sql.placeholder('ownerId')), isNull(workflows.deletedAt)))
    .prepare(),
);

export async function getWorkflow(db: DB, ownerId: number, id: number): Promise<WorkflowRow | undefined> {
  return workflowQuery(db).get({ id, ownerId });
}

/** What a run needs of a workflow: the definition of one version. */
export type WorkflowDefinition = Pick<WorkflowRow, 'id' | 'version' | 'name' | 'nodes' | 'settings'>;

const VersionBody = z.object({ name: z.string(), nodes: z.array(z.unknown()), settings: z.record(z.string(), z.unknown()) });

/**
 * One version's definition. A `workflow_versions` row is never changed once written (an update
 * writes the next version; ids are AUTOINCREMENT, so never reused), which is what makes it safe
 * to cache in every tier, KV included, however stale KV's view of other keys may be.
 */
export async function workflowVersion(cache: CacheScope, db: DB, id: number, version: number): Promise<z.infer<typeof VersionBody>> {
  const load = async () => {
    const row = await db
      .select({ name: workflowVersions.name, nodes: workflowVersions.nodes, settings: workflowVersions.settings })
      .from(workflowVersions)
      .where(and(eq(workflowVersions.workflowId, id), eq(workflowVersions.version, version)))
      .get();
    if (!row) throw new Error(`version ${version} of workflow ${id} is missing`);
    return row;
  };
  return cached(cache, 'workflow', `${id}:${version}`, load, { schema: VersionBody, tags: [`workflow:${id}`] });
}

/**
 * The definition a new run starts from. The current version number is always read from D1 (a
 * small indexed read of the primary), so an update, or a delete, is seen by the very next run;
 * only the immutable body of that version comes from the cache.
 */
export async function workflowForRun(cache: CacheScope, db: DB, ownerId: number, id: number): Promise<WorkflowDefinition | undefined> {
  const head = await db
    .select({ version: workflows.version })
    .from(workflows)
    .where(and(eq(workflows.id, id), eq(workflows.ownerId, ownerId), isNull(workflows.deletedAt)))
    .get();
  return head && { id, version: head.version, ...(await workflowVersion(cache, db, id, head.version)) };
}

/**
 * Writes a new version. The update is conditional on the version that was read, so of two
 * concurrent updates one wins and the other gets 409 instead of silently overwriting it.
 */
export async function updateWorkflow(
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  id: number,
  change: (current: WorkflowInput) => WorkflowInput,
  audit: { action: string; details?: Record<string, unknown> } = { action: 'workflow.update' },
): Promise<WorkflowRow> {
  const current = await getWorkflow(db, ownerId, id);
  if (!current) throw new ApiError('not_found', 'Workflow not found');
  const next = change({
    name: current.name,
    description: current.description,
    nodes: current.nodes as WorkflowNode[],
    settings: current.settings as WorkflowSettings,
  });
  await checkSubchains(db, ownerId, next.nodes, id);
  const version = current.version + 1;
  const [updated] = await db.batch([
    db
      .update(workflows)
      .set({
        name: next.name,
        description: next.description ?? null,
        nodes: next.nodes,
        settings: next.settings,
        version,
        updatedAt: Date.now(),
      })
      .where(and(eq(workflows.id, id), eq(workflows.version, current.version), isNull(workflows.deletedAt)))
      .returning(),
    // Only if the conditional update above matched: otherwise the batch writes nothing at all.
    rawRun(
      db,
      sql`INSERT INTO workflow_versions (workflow_id, version, name, description, nodes, settings, created_by)
      SELECT ${id}, ${version}, ${next.name}, ${next.description ?? null}, ${JSON.stringify(next.nodes)},
        ${JSON.stringify(next.settings)}, ${meta.actorUserId ?? ownerId}
      WHERE changes() > 0`,
    ),
    auditIfChanged(db, meta, { action: audit.action, targetType: 'workflow', targetId: id, details: { ...audit.details, version } }),
    versionEvent(db, id, version),
  ]);
  if (!updated[0]) throw new ApiError('conflict', 'The workflow was changed concurrently; fetch it and retry');
  return updated[0];
}

export async function deleteWorkflow(db: DB, meta: RequestMeta, ownerId: number, id: number): Promise<void> {
  const [deleted] = await db.batch([
    db
      .update(workflows)
      .set({ deletedAt: Date.now() })
      .where(and(eq(workflows.id, id), eq(workflows.ownerId, ownerId), isNull(workflows.deletedAt)))
      .returning({ id: workflows.id }),
    auditIfChanged(db, meta, { action: 'workflow.delete', targetType: 'workflow', targetId: id }),
  ]);
  if (deleted.length === 0) throw new ApiError('not_found', 'Workflow not found');
}
