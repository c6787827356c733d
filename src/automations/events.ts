import { and, eq, sql } from 'drizzle-orm';
import { getDb, preparedOnce, type DB } from '../db/client';
import { automations } from '../db/schema';
import { log } from '../lib/log';
import type { RunMeta } from '../runs/engine/types';
import type { TaskRow } from '../tasks/lifecycle';
import { conditionsHold } from './conditions';
import { executionOfEffect, fire } from './execute';
import { Trigger, type AutomationEvent } from './schemas';

/*
 * Internal events. Each carries an id made from what happened (`run:12:succeeded`), so emitting it
 * twice — a run's projection flushed again after an eviction, a settle repeated — fires each
 * automation once: executions are unique per (automation, event id). The chain depth comes from
 * the effect's origin: a run an automation's action launched is one hop deeper than that
 * execution, so loops are counted and stopped (MAX_CHAIN_DEPTH in execute.ts).
 */

export type InternalEvent = { type: AutomationEvent; id: string; ownerId: number; data: Record<string, unknown>; effectRef: string | null };

/** Built once per isolate: it runs for every document and run a chain produces. */
const candidatesQuery = preparedOnce((db) =>
  db
    .select()
    .from(automations)
    .where(
      and(eq(automations.ownerId, sql.placeholder('ownerId')), eq(automations.triggerType, 'event_based'), eq(automations.enabled, true)),
    )
    .prepare(),
);

/** Fires every enabled event_based automation of the owner that this event matches. */
export async function emitEvent(env: Env, db: DB, e: InternalEvent): Promise<number> {
  const candidates = await candidatesQuery(db).all({ ownerId: e.ownerId });
  const triggerData = { event_type: e.type, ...e.data };
  const scope = { trigger: triggerData, context: {}, event: { id: e.id, type: e.type }, actions: [] };
  // Without `event`, an automation matches internal events only through conditions it states.
  const matching = candidates.filter((a) => {
    const t = Trigger.safeParse(a.trigger);
    if (!t.success || t.data.type !== 'event_based') return false;
    if (t.data.event) return t.data.event === e.type && conditionsHold(t.data.conditions, scope);
    return t.data.conditions !== undefined && conditionsHold(t.data.conditions, scope);
  });
  if (!matching.length) return 0;
  const origin = e.effectRef ? await executionOfEffect(db, e.effectRef) : undefined;
  for (const a of matching) {
    await fire(env, db, a, {
      eventId: e.id,
      triggerData,
      context: {},
      depth: origin ? origin.depth + 1 : 0,
      originAutomationId: origin ? origin.origin : null,
      meta: { requestId: `event:${e.id}`.slice(0, 64), ip: null, userAgent: null, actorUserId: e.ownerId, actorApiKeyId: null },
    });
  }
  return matching.length;
}

/** Emits and logs failure: an automation missing an event is not worth failing its source over. */
async function emitSafely(env: Env, db: DB, e: InternalEvent): Promise<void> {
  try {
    await emitEvent(env, db, e);
  } catch (err) {
    log(env.LOG_LEVEL, 'warn', 'automation event not delivered', { event: e.id, error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Called by the run's Durable Object when it settles in a final state (through waitUntil, so the
 * run never waits on automations). Nothing here is retried: an event lost to a D1 outage at that
 * moment is lost (stated in docs/api/automations.md).
 */
export async function emitRunFinished(env: Env, meta: RunMeta): Promise<void> {
  if (meta.status !== 'succeeded' && meta.status !== 'failed') return;
  await emitSafely(env, getDb(env.DB), {
    type: meta.status === 'succeeded' ? 'workflow.completed' : 'workflow.failed',
    id: `run:${meta.runId}:${meta.status}`,
    ownerId: meta.ownerId,
    data: { run_id: meta.runId, workflow_id: meta.workflowId, workflow_name: meta.workflowName, status: meta.status, error: meta.error },
    effectRef: `run:${meta.runId}`,
  });
}

/** A run node's document reached D1 (the run's projection made it). */
export async function emitDocumentGenerated(env: Env, meta: RunMeta, nodeId: string, documentId: number): Promise<void> {
  await emitSafely(env, getDb(env.DB), {
    type: 'document.generated',
    id: `document:${documentId}:generated`,
    ownerId: meta.ownerId,
    data: { document_id: documentId, run_id: meta.runId, workflow_id: meta.workflowId, node_id: nodeId },
    effectRef: `run:${meta.runId}`,
  });
}

/** A background task ended failed (not retryable). Tasks made by an automation's action count as its effects. */
export async function emitTaskFailed(env: Env, db: DB, task: TaskRow, error: string): Promise<void> {
  await emitSafely(env, db, {
    type: 'task.failed',
    id: `task:${task.id}:failed`,
    ownerId: task.ownerId,
    data: { task_id: task.id, task_type: task.taskType, name: task.name, error: error.slice(0, 2000) },
    // A failed notification delivery traces back through its delivery id, so an automation
    // that notifies about failed tasks counts its own failing notifications as hops.
    effectRef: task.taskType === 'notification_delivery' ? `notification:${String(task.payload.delivery_id)}` : `task:${task.id}`,
  });
}

/** Data change: a workflow definition was created or got a new version (called from its routes through waitUntil). */
export async function emitWorkflowChanged(env: Env, w: { id: number; ownerId: number; version: number; name: string }): Promise<void> {
  await emitSafely(env, getDb(env.DB), {
    type: w.version === 1 ? 'workflow.created' : 'workflow.updated',
    id: `workflow:${w.id}:v${w.version}`,
    ownerId: w.ownerId,
    data: { workflow_id: w.id, version: w.version, name: w.name },
    effectRef: null,
  });
}
