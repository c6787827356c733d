import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { workflowVersions } from '../db/schema';
import type { RequestMeta } from '../lib/audit';
import { ApiError } from '../lib/errors';
import { toIso } from '../lib/time';
import type { WorkflowNode, WorkflowSettings } from '../engine';
import { type Definition, diffDefinitions } from './diff';
import { getWorkflow, updateWorkflow, type WorkflowRow } from './queries';

export type VersionRow = typeof workflowVersions.$inferSelect;

export function versionSummary(v: VersionRow & { runCount: number }, current: number) {
  return {
    version: v.version,
    name: v.name,
    description: v.description,
    node_count: (v.nodes as unknown[]).length,
    current: v.version === current,
    run_count: v.runCount,
    created_by: v.createdBy,
    created_at: toIso(v.createdAt),
  };
}

export function publicVersion(v: VersionRow, current: number) {
  return {
    workflow_id: v.workflowId,
    version: v.version,
    current: v.version === current,
    name: v.name,
    description: v.description,
    nodes: v.nodes as WorkflowNode[],
    settings: v.settings as WorkflowSettings,
    created_by: v.createdBy,
    created_at: toIso(v.createdAt),
  };
}

/** The owner's live workflow, or 404: versions are only shown to whoever may read the workflow. */
async function ownedWorkflow(db: DB, ownerId: number, id: number): Promise<WorkflowRow> {
  const wf = await getWorkflow(db, ownerId, id);
  if (!wf) throw new ApiError('not_found', 'Workflow not found');
  return wf;
}

/** A workflow's versions, newest first, each with how many runs are pinned to it (counted from D1's runs). */
export async function listVersions(db: DB, ownerId: number, id: number, limit: number, beforeVersion?: number) {
  const wf = await ownedWorkflow(db, ownerId, id);
  const rows = await db
    .select({
      workflowId: workflowVersions.workflowId,
      version: workflowVersions.version,
      name: workflowVersions.name,
      description: workflowVersions.description,
      nodes: workflowVersions.nodes,
      settings: workflowVersions.settings,
      createdBy: workflowVersions.createdBy,
      createdAt: workflowVersions.createdAt,
      // Spelled out: inside sql`` drizzle renders a column without its table, and in this
      // correlated subquery an unqualified workflow_id would be the runs table's own on both sides.
      runCount: sql<number>`(SELECT count(*) FROM runs WHERE runs.workflow_id = workflow_versions.workflow_id
        AND runs.workflow_version = workflow_versions.version)`,
    })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, id), beforeVersion ? lt(workflowVersions.version, beforeVersion) : undefined))
    .orderBy(desc(workflowVersions.version))
    .limit(limit + 1)
    .all();
  return { workflow: wf, rows };
}

export async function getVersion(db: DB, ownerId: number, id: number, version: number) {
  const wf = await ownedWorkflow(db, ownerId, id);
  const row = await db
    .select()
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, id), eq(workflowVersions.version, version)))
    .get();
  if (!row) throw new ApiError('not_found', `Version ${version} of workflow ${id} not found`);
  return { workflow: wf, row };
}

const definitionOf = (v: VersionRow): Definition => ({
  name: v.name,
  description: v.description,
  nodes: v.nodes,
  settings: v.settings,
});

/** Node-level difference from one version to another (`to` defaults to the current version). */
export async function diffVersions(db: DB, ownerId: number, id: number, from: number, to?: number) {
  const a = await getVersion(db, ownerId, id, from);
  const toVersion = to ?? a.workflow.version;
  const b = toVersion === from ? a : await getVersion(db, ownerId, id, toVersion);
  return { workflow_id: id, from, to: toVersion, ...diffDefinitions(definitionOf(a.row), definitionOf(b.row)) };
}

/**
 * Writes a new version equal to an old one. History is never rewritten: runs stay pinned to the
 * versions they started with, including the ones after the restored version. The old definition
 * is checked again as any update is (its subchains must still exist).
 */
export async function rollbackWorkflow(db: DB, meta: RequestMeta, ownerId: number, id: number, version: number): Promise<WorkflowRow> {
  const { workflow, row } = await getVersion(db, ownerId, id, version);
  if (version === workflow.version) throw new ApiError('conflict', `Version ${version} is already the current version`);
  return updateWorkflow(
    db,
    meta,
    ownerId,
    id,
    () => ({
      name: row.name,
      description: row.description,
      nodes: row.nodes as WorkflowNode[],
      settings: row.settings as WorkflowSettings,
    }),
    { action: 'workflow.rollback', details: { restored_version: version } },
  );
}
