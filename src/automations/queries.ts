import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { rawAll, type DB } from '../db/client';
import { automationActionResults, automationExecutions, automations } from '../db/schema';
import { ApiError } from '../lib/errors';
import type { Action, AutomationBody, Trigger } from './schemas';

/* D1 access for automations, their executions and each action's recorded result. */

export type AutomationRow = typeof automations.$inferSelect;
export type ExecutionRow = typeof automationExecutions.$inferSelect;
export type ActionResultRow = typeof automationActionResults.$inferSelect;

export const publicAutomationId = (id: number) => `automation_${id}`;
const iso = (ms: number) => new Date(ms).toISOString();

export const automationView = (a: AutomationRow) => ({
  id: publicAutomationId(a.id),
  name: a.name,
  description: a.description,
  trigger: a.trigger as Trigger,
  actions: a.actions as Action[],
  ai_decision_making: a.aiDecisionMaking,
  learning_enabled: a.learningEnabled,
  enabled: a.enabled,
  created_at: iso(a.createdAt),
  updated_at: iso(a.updatedAt),
});

export function executionView(e: ExecutionRow, actions: Action[], results: ActionResultRow[]) {
  const byIndex = new Map(results.map((r) => [r.actionIndex, r]));
  return {
    id: e.id,
    automation_id: publicAutomationId(e.automationId),
    event_id: e.eventId,
    status: e.status,
    trigger_data: e.triggerData,
    context: e.context,
    depth: e.depth,
    origin_automation_id: e.originAutomationId === null ? null : publicAutomationId(e.originAutomationId),
    task_id: e.taskId,
    decision: e.decision ?? null,
    error: e.error,
    actions: actions.map((a, index) => {
      const r = byIndex.get(index);
      return {
        index,
        type: a.type,
        status: r?.status ?? ('not_run' as const),
        output: r?.output ?? null,
        error: r?.error ?? null,
        duration_ms: r?.durationMs ?? null,
      };
    }),
    created_at: iso(e.createdAt),
    finished_at: e.finishedAt === null ? null : iso(e.finishedAt),
  };
}

/** The owner's automation; anyone else's is "not found", exactly like a missing one. */
export async function findAutomation(db: DB, ownerId: number, id: number): Promise<AutomationRow> {
  const row = await db
    .select()
    .from(automations)
    .where(and(eq(automations.id, id), eq(automations.ownerId, ownerId)))
    .get();
  if (!row) throw new ApiError('not_found', 'Automation not found');
  return row;
}

export const automationValues = (b: AutomationBody) => ({
  name: b.name,
  description: b.description ?? null,
  triggerType: b.trigger.type,
  trigger: b.trigger as Record<string, unknown>,
  actions: b.actions as Record<string, unknown>[],
  aiDecisionMaking: b.ai_decision_making,
  learningEnabled: b.learning_enabled,
  enabled: b.enabled,
});

export function listAutomations(db: DB, ownerId: number, limit: number, before: number | undefined) {
  return db
    .select()
    .from(automations)
    .where(and(eq(automations.ownerId, ownerId), before ? lt(automations.id, before) : undefined))
    .orderBy(desc(automations.id))
    .limit(limit + 1)
    .all();
}

export async function listExecutions(db: DB, automation: AutomationRow, limit: number, before: number | undefined) {
  const rows = await db
    .select()
    .from(automationExecutions)
    .where(and(eq(automationExecutions.automationId, automation.id), before ? lt(automationExecutions.id, before) : undefined))
    .orderBy(desc(automationExecutions.id))
    .limit(limit + 1)
    .all();
  const results = rows.length
    ? await db
        .select()
        .from(automationActionResults)
        .where(
          inArray(
            automationActionResults.executionId,
            rows.map((r) => r.id),
          ),
        )
        .all()
    : [];
  return { rows, results };
}

export async function getExecution(db: DB, ownerId: number, id: number) {
  const e = await db
    .select()
    .from(automationExecutions)
    .where(and(eq(automationExecutions.id, id), eq(automationExecutions.ownerId, ownerId)))
    .get();
  if (!e) return null;
  const results = await db.select().from(automationActionResults).where(eq(automationActionResults.executionId, id)).all();
  return { execution: e, results };
}

/** Every figure counted from stored rows: automations, executions by status, actions by type and outcome. */
export async function automationStats(db: DB, ownerId: number) {
  const [autos, execs, acts, learned] = await db.batch([
    rawAll<{ trigger_type: string; n: number; enabled: number }>(
      db,
      sql`SELECT trigger_type, count(*) AS n, sum(enabled) AS enabled FROM automations WHERE owner_id = ${ownerId} GROUP BY trigger_type`,
    ),
    rawAll<{ status: string; n: number }>(
      db,
      sql`SELECT status, count(*) AS n FROM automation_executions WHERE owner_id = ${ownerId} GROUP BY status`,
    ),
    rawAll<{ action_type: string; status: string; n: number; avg_ms: number | null }>(
      db,
      sql`SELECT r.action_type, r.status, count(*) AS n, avg(r.duration_ms) AS avg_ms
      FROM automation_action_results r JOIN automation_executions e ON e.id = r.execution_id WHERE e.owner_id = ${ownerId} GROUP BY r.action_type, r.status`,
    ),
    rawAll<{ automation_id: number; i: number; s: number; f: number }>(
      db,
      sql`SELECT e.automation_id, r.action_index AS i, sum(r.status = 'succeeded') AS s, sum(r.status = 'failed') AS f
      FROM automation_action_results r JOIN automation_executions e ON e.id = r.execution_id JOIN automations a ON a.id = e.automation_id
      WHERE e.owner_id = ${ownerId} AND a.learning_enabled = 1 GROUP BY e.automation_id, r.action_index ORDER BY e.automation_id, r.action_index`,
    ),
  ]);
  // What the learning sampler sees: per automation and action, the recorded outcomes.
  const learning = new Map<number, { index: number; succeeded: number; failed: number }[]>();
  for (const r of learned)
    learning.set(r.automation_id, [...(learning.get(r.automation_id) ?? []), { index: r.i, succeeded: r.s, failed: r.f }]);
  const byStatus = Object.fromEntries(execs.map((r) => [r.status, r.n]));
  const actions: Record<
    string,
    { succeeded: number; failed: number; started: number; success_rate: number | null; avg_duration_ms: number | null }
  > = {};
  for (const r of acts) {
    const a = (actions[r.action_type] ??= { succeeded: 0, failed: 0, started: 0, success_rate: null, avg_duration_ms: null });
    a[r.status as 'succeeded' | 'failed' | 'started'] = r.n;
    if (r.status === 'succeeded' && r.avg_ms !== null) a.avg_duration_ms = Math.round(r.avg_ms);
  }
  for (const a of Object.values(actions)) a.success_rate = a.succeeded + a.failed ? a.succeeded / (a.succeeded + a.failed) : null;
  const finished = (byStatus.succeeded ?? 0) + (byStatus.failed ?? 0);
  return {
    automations: {
      total: autos.reduce((s, r) => s + r.n, 0),
      enabled: autos.reduce((s, r) => s + (r.enabled ?? 0), 0),
      by_trigger: Object.fromEntries(autos.map((r) => [r.trigger_type, r.n])),
    },
    executions: {
      total: execs.reduce((s, r) => s + r.n, 0),
      by_status: byStatus,
      success_rate: finished ? (byStatus.succeeded ?? 0) / finished : null,
    },
    actions,
    learning: [...learning].map(([id, actions]) => ({ automation_id: publicAutomationId(id), actions })),
  };
}
