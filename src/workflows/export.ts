import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { DB } from '../db/client';
import { workflows, workflowTags, workflowVersions } from '../db/schema';
import { ApiError } from '../lib/errors';
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Bundle, keyFor, MAX_BUNDLE_WORKFLOWS, mapSubchains, subchainSites } from './bundle';
import type { WorkflowRow } from './queries';
import { ownedWorkflows } from './search';
import { tagsOf } from './tags';

export type ExportSelection = { ids?: number[] | undefined; tag?: string | undefined; versions: boolean };

async function selected(db: DB, ownerId: number, s: ExportSelection): Promise<WorkflowRow[]> {
  if (s.ids) {
    const found = await ownedWorkflows(db, ownerId, s.ids);
    const missing = s.ids.filter((id) => !found.has(id));
    if (missing.length) throw new ApiError('not_found', `Workflow ${missing.join(', ')} not found`);
    return [...found.values()];
  }
  return db
    .select()
    .from(workflows)
    .where(
      and(
        eq(workflows.ownerId, ownerId),
        isNull(workflows.deletedAt),
        s.tag
          ? inArray(workflows.id, db.select({ id: workflowTags.workflowId }).from(workflowTags).where(eq(workflowTags.tag, s.tag)))
          : undefined,
      ),
    )
    .orderBy(asc(workflows.id))
    .limit(MAX_BUNDLE_WORKFLOWS + 1)
    .all();
}

const targetsOf = (nodes: unknown[]) => subchainSites(nodes).map((s) => Number(s.node.workflow_id));

/**
 * A bundle of the selected workflows and every workflow their subchains start, transitively (a
 * bundle is complete: it imports into an empty deployment). Keys come from names, in id order, so
 * exporting the same workflows again gives the same keys.
 */
export async function exportBundle(db: DB, ownerId: number, s: ExportSelection): Promise<Bundle> {
  const rows = new Map((await selected(db, ownerId, s)).map((w) => [w.id, w]));
  const history = new Map<number, (typeof workflowVersions.$inferSelect)[]>();
  for (let pending = [...rows.values()]; pending.length; ) {
    if (rows.size > MAX_BUNDLE_WORKFLOWS)
      throw new ApiError('bad_request', `A bundle holds at most ${MAX_BUNDLE_WORKFLOWS} workflows; choose some with ids or tag`);
    if (s.versions) {
      const versions = await db
        .select()
        .from(workflowVersions)
        .where(
          inArray(
            workflowVersions.workflowId,
            pending.map((w) => w.id),
          ),
        )
        .orderBy(asc(workflowVersions.version))
        .all();
      for (const v of versions)
        if (v.version < rows.get(v.workflowId)!.version) history.set(v.workflowId, [...(history.get(v.workflowId) ?? []), v]);
    }
    const wanted = new Set(
      pending.flatMap((w) => [...targetsOf(w.nodes), ...(history.get(w.id) ?? []).flatMap((v) => targetsOf(v.nodes))]),
    );
    const missing = [...wanted].filter((id) => !rows.has(id));
    const found = await ownedWorkflows(db, ownerId, missing);
    const gone = missing.filter((id) => !found.has(id));
    if (gone.length)
      throw new ApiError(
        'conflict',
        `A subchain starts workflow ${gone.join(', ')}, which no longer exists; the bundle would be incomplete`,
        {
          details: gone.map((id) => ({ path: ['workflow_id'], code: 'missing_subchain', message: `workflow ${id} no longer exists` })),
        },
      );
    for (const w of found.values()) rows.set(w.id, w);
    pending = [...found.values()];
  }

  const ordered = [...rows.values()].sort((a, b) => a.id - b.id);
  const taken = new Set<string>();
  const keys = new Map(ordered.map((w) => [w.id, keyFor(w.name, taken)]));
  const portable = (nodes: unknown[]) =>
    mapSubchains(nodes, ({ workflow_id, ...rest }) => ({ ...rest, workflow: keys.get(Number(workflow_id)) }));
  const tags = await tagsOf(
    db,
    ordered.map((w) => w.id),
  );
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    exported_at: new Date().toISOString(),
    workflows: ordered.map((w) => ({
      key: keys.get(w.id)!,
      name: w.name,
      description: w.description,
      tags: tags.get(w.id) ?? [],
      settings: w.settings,
      nodes: portable(w.nodes) as Record<string, unknown>[],
      ...(s.versions
        ? {
            versions: (history.get(w.id) ?? []).map((v) => ({
              name: v.name,
              description: v.description,
              settings: v.settings,
              nodes: portable(v.nodes) as Record<string, unknown>[],
            })),
          }
        : {}),
    })),
  };
}
