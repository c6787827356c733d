import { and, eq, isNotNull, isNull } from 'drizzle-orm';
import { runBatch, type DB, type Stmt } from '../db/client';
import { workflows } from '../db/schema';
import { auditIfChanged, type RequestMeta } from '../lib/audit';
import { ApiError } from '../lib/errors';
import { prepareInput, type WorkflowNode, type WorkflowSettings } from '../engine';
import type { WorkflowRow } from './queries';
import { ownedWorkflows } from './search';
import { addTags, MAX_TAGS, removeTags, tagsOf } from './tags';

export const BULK_ACTIONS = ['delete', 'archive', 'unarchive', 'tag', 'untag', 'run'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export const MAX_BULK = 100;

export type BulkRequest = { action: BulkAction; ids: number[]; tags?: string[] | undefined; input?: Record<string, unknown> | undefined };
type Problem = { path: (string | number)[]; code: string; message: string };

/**
 * Checks every item before anything is written: all of them must be the caller's live workflows,
 * tag changes must keep each under the tag cap, and a run's input must give every key each
 * workflow's templates read. Any problem refuses the whole request (400, one detail per item),
 * so a bulk request either applies to every item or to none.
 */
export async function validateBulk(db: DB, ownerId: number, req: BulkRequest): Promise<Map<number, WorkflowRow>> {
  const problems: Problem[] = [];
  const seen = new Set<number>();
  req.ids.forEach((id, i) => {
    if (seen.has(id)) problems.push({ path: ['ids', i], code: 'duplicate', message: `workflow ${id} is listed twice` });
    seen.add(id);
  });
  if ((req.action === 'tag' || req.action === 'untag') && !req.tags?.length)
    problems.push({ path: ['tags'], code: 'required', message: `${req.action} needs at least one tag` });
  if (req.action !== 'tag' && req.action !== 'untag' && req.tags !== undefined)
    problems.push({ path: ['tags'], code: 'unexpected', message: `tags only go with tag or untag` });
  if (req.action !== 'run' && req.input !== undefined)
    problems.push({ path: ['input'], code: 'unexpected', message: 'input only goes with run' });
  const found = await ownedWorkflows(db, ownerId, [...seen]);
  const tags = req.action === 'tag' ? await tagsOf(db, [...found.keys()]) : new Map<number, string[]>();
  for (const [i, id] of req.ids.entries()) {
    const wf = found.get(id);
    if (!wf) {
      problems.push({ path: ['ids', i], code: 'not_found', message: `workflow ${id} not found` });
      continue;
    }
    if (req.action === 'tag') {
      const total = new Set([...(tags.get(id) ?? []), ...(req.tags ?? [])]).size;
      if (total > MAX_TAGS)
        problems.push({
          path: ['ids', i],
          code: 'too_many_tags',
          message: `workflow ${id} would have ${total} tags (at most ${MAX_TAGS})`,
        });
    }
    if (req.action === 'run') {
      const { missing } = prepareInput(wf.nodes as WorkflowNode[], wf.settings as WorkflowSettings, req.input ?? {});
      if (missing.length)
        problems.push({
          path: ['ids', i],
          code: 'missing_input',
          message: `workflow ${id} reads ${missing.map((k) => `{{input.${k}}}`).join(', ')}, which the input lacks`,
        });
    }
  }
  if (problems.length) throw new ApiError('validation_error', 'Bulk request refused: nothing was changed', { details: problems });
  return found;
}

export type BulkResult = { id: number; ok: boolean; changed: boolean; run_id?: number; error?: { code: string; message: string } };

/**
 * Applies delete, archive, unarchive, tag or untag to already validated workflows, in one D1
 * batch (one transaction): every item's change and its audit row, or none of them. An item that
 * was already in the wanted state is reported `changed: false` and leaves no audit row.
 */
export async function applyBulk(db: DB, meta: RequestMeta, ownerId: number, req: BulkRequest): Promise<BulkResult[]> {
  const now = Date.now();
  const live = (id: number) => and(eq(workflows.id, id), eq(workflows.ownerId, ownerId), isNull(workflows.deletedAt));
  const statements: Stmt[] = [];
  for (const id of req.ids) {
    const audit = { targetType: 'workflow', targetId: id, details: { bulk: true, ...(req.tags ? { tags: req.tags } : {}) } };
    const change =
      req.action === 'delete'
        ? db.update(workflows).set({ deletedAt: now }).where(live(id)).returning({ id: workflows.id })
        : req.action === 'archive'
          ? db
              .update(workflows)
              .set({ archivedAt: now })
              .where(and(live(id), isNull(workflows.archivedAt)))
              .returning({ id: workflows.id })
          : req.action === 'unarchive'
            ? db
                .update(workflows)
                .set({ archivedAt: null })
                .where(and(live(id), isNotNull(workflows.archivedAt)))
                .returning({ id: workflows.id })
            : req.action === 'tag'
              ? addTags(db, id, req.tags ?? [])
              : removeTags(db, id, req.tags ?? []);
    statements.push(change, auditIfChanged(db, meta, { action: `workflow.${req.action}`, ...audit }));
  }
  const results = await runBatch(db, statements);
  return req.ids.map((id, i) => {
    const rows = results[i * 2] as unknown[];
    return { id, ok: true, changed: rows.length > 0 };
  });
}
