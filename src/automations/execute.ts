import { and, eq, sql } from 'drizzle-orm';
import type { RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { automationActionResults, automationExecutions, automations, type ExecutionStatus } from '../db/schema';
import { ActionError, runAction } from './actions';
import { conditionsHold, type Scope } from './conditions';
import { actionOrder } from './decide';
import { Action, Trigger } from './schemas';
import type { AutomationRow, ExecutionRow } from './queries';
import { submitTasks } from '../tasks';

/**
 * How many automation hops one chain of events may take: an automation fired by an effect of
 * another automation (or of itself) is one hop deeper. Beyond this the execution is stored as
 * `refused` and runs nothing, so two automations that trigger each other stop after a few rounds.
 */
export const MAX_CHAIN_DEPTH = 3;

export type Firing = {
  eventId: string;
  triggerData: Record<string, unknown>;
  context: Record<string, unknown>;
  depth: number;
  originAutomationId: number | null;
  meta: RequestMeta;
};

const TERMINAL: ExecutionStatus[] = ['succeeded', 'failed', 'skipped', 'refused'];

export const scopeOf = (e: Pick<ExecutionRow, 'triggerData' | 'context' | 'eventId'>): Scope => ({
  trigger: e.triggerData,
  context: e.context,
  event: { id: e.eventId },
  actions: [],
});

/**
 * Records a firing and, when it should run, hands it to the background task layer (one
 * `automation_run` task, idempotency key `automation-execution:<id>`). The (automation, event id)
 * unique index makes a repeated firing return the execution the first one stored.
 */
export async function fire(env: Env, db: DB, automation: AutomationRow, f: Firing): Promise<ExecutionRow> {
  const trigger = Trigger.parse(automation.trigger);
  let status: ExecutionStatus = 'queued';
  let error: string | null = null;
  if (f.depth > MAX_CHAIN_DEPTH) {
    status = 'refused';
    error = `chain depth ${f.depth} exceeds ${MAX_CHAIN_DEPTH}: this firing came from automation effects ${f.depth} hops deep, so it was stopped to break a loop`;
  } else if (!automation.enabled) {
    status = 'skipped';
    error = 'the automation is disabled';
  } else if (!conditionsHold(trigger.conditions, { trigger: f.triggerData, context: f.context, event: { id: f.eventId }, actions: [] })) {
    status = 'skipped';
    error = 'the trigger conditions are not met';
  }
  const now = Date.now();
  const [inserted] = await db
    .insert(automationExecutions)
    .values({
      automationId: automation.id,
      ownerId: automation.ownerId,
      eventId: f.eventId,
      status,
      triggerData: f.triggerData,
      context: f.context,
      depth: f.depth,
      originAutomationId: f.originAutomationId,
      error,
      createdAt: now,
      finishedAt: status === 'queued' ? null : now,
    })
    .onConflictDoNothing()
    .returning();
  const execution =
    inserted ??
    (await db
      .select()
      .from(automationExecutions)
      .where(and(eq(automationExecutions.automationId, automation.id), eq(automationExecutions.eventId, f.eventId)))
      .get());
  if (!execution) throw new Error('automation execution vanished');
  if (execution.status !== 'queued' || execution.taskId !== null) return execution;
  try {
    const [s] = await submitTasks(env, db, f.meta, automation.ownerId, [
      {
        name: `automation ${automation.id} execution ${execution.id}`,
        task_type: 'automation_run',
        priority: 'normal',
        payload: { execution_id: execution.id },
        delay_seconds: 0,
        timeout_seconds: 900,
        max_retries: 3,
        idempotency_key: `automation-execution:${execution.id}`,
      },
    ]);
    const [updated] = await db
      .update(automationExecutions)
      .set({ taskId: s!.task.id })
      .where(eq(automationExecutions.id, execution.id))
      .returning();
    return updated ?? execution;
  } catch (err) {
    await db
      .update(automationExecutions)
      .set({
        status: 'failed',
        error: `could not queue the execution: ${err instanceof Error ? err.message : String(err)}`,
        finishedAt: Date.now(),
      })
      .where(eq(automationExecutions.id, execution.id));
    throw err;
  }
}

const finish = (db: DB, id: number, status: ExecutionStatus, error: string | null) =>
  db.update(automationExecutions).set({ status, error, finishedAt: Date.now() }).where(eq(automationExecutions.id, id));

/**
 * Runs an execution's actions in order (the declared order, or the one the decision step
 * chose). Each action is recorded `started` before its effect and finished after it. On a
 * redelivered task: a finished action is not run again (its stored output feeds later actions);
 * a `started` one is run again only when its effect is idempotent by key (workflow runs and tasks
 * carry `automation:<execution>:<index>`) or has none (AI generation); a notification that may
 * have been sent is marked failed instead of being sent twice.
 */
export async function runExecution(
  env: Env,
  db: DB,
  executionId: number,
  ownerId: number,
): Promise<{ status: ExecutionStatus; error: string | null }> {
  const execution = await db
    .select()
    .from(automationExecutions)
    .where(and(eq(automationExecutions.id, executionId), eq(automationExecutions.ownerId, ownerId)))
    .get();
  if (!execution) return { status: 'failed', error: 'execution not found' };
  if (TERMINAL.includes(execution.status)) return { status: execution.status, error: execution.error };
  const automation = await db.select().from(automations).where(eq(automations.id, execution.automationId)).get();
  if (!automation) return { status: 'failed', error: 'automation deleted' };
  await db.update(automationExecutions).set({ status: 'running' }).where(eq(automationExecutions.id, execution.id));

  const actions = automation.actions.map((a) => Action.parse(a));
  const prior = new Map(
    (await db.select().from(automationActionResults).where(eq(automationActionResults.executionId, execution.id)).all()).map((r) => [
      r.actionIndex,
      r,
    ]),
  );
  const scope = scopeOf(execution);
  const order = await actionOrder(env, db, automation, actions, execution);
  for (const index of order) {
    const action = actions[index]!;
    const before = prior.get(index);
    if (before?.status === 'succeeded') {
      scope.actions[index] = { output: before.output };
      continue;
    }
    if (before?.status === 'failed') return finishFailed(db, execution.id, `action ${index} (${action.type}) failed: ${before.error}`);
    if (before?.status === 'started' && action.type === 'send_notification') {
      const error = 'interrupted after it may have been sent; not repeated so nobody gets it twice';
      await db
        .update(automationActionResults)
        .set({ status: 'failed', error })
        .where(and(eq(automationActionResults.executionId, execution.id), eq(automationActionResults.actionIndex, index)));
      return finishFailed(db, execution.id, `action ${index} (${action.type}) ${error}`);
    }
    const startedAt = Date.now();
    await db
      .insert(automationActionResults)
      .values({ executionId: execution.id, actionIndex: index, actionType: action.type, status: 'started', startedAt })
      .onConflictDoUpdate({ target: [automationActionResults.executionId, automationActionResults.actionIndex], set: { startedAt } });
    const where = and(eq(automationActionResults.executionId, execution.id), eq(automationActionResults.actionIndex, index));
    try {
      const out = await runAction({ env, db, automation, execution, index, scope }, action);
      scope.actions[index] = { output: out.output };
      await db
        .update(automationActionResults)
        .set({ status: 'succeeded', output: out.output, effectRef: out.effectRef, durationMs: Date.now() - startedAt })
        .where(where);
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      await db
        .update(automationActionResults)
        .set({ status: 'failed', error: err.message, durationMs: Date.now() - startedAt })
        .where(where);
      return finishFailed(db, execution.id, `action ${index} (${action.type}) failed: ${err.message}`);
    }
  }
  await finish(db, execution.id, 'succeeded', null);
  return { status: 'succeeded', error: null };
}

async function finishFailed(db: DB, id: number, error: string) {
  await finish(db, id, 'failed', error);
  return { status: 'failed' as const, error };
}

/** The execution (depth, origin) whose action made this effect (`run:12`), if an automation made it. */
export async function executionOfEffect(db: DB, effectRef: string) {
  return db.get<{
    depth: number;
    origin: number | null;
    automation_id: number;
  }>(sql`SELECT e.depth, coalesce(e.origin_automation_id, e.automation_id) AS origin, e.automation_id
    FROM automation_action_results r JOIN automation_executions e ON e.id = r.execution_id WHERE r.effect_ref = ${effectRef} LIMIT 1`);
}
