import { and, eq } from 'drizzle-orm';
import { fire, runExecution } from '../../automations/execute';
import { Trigger } from '../../automations/schemas';
import { crosses, firedWithin, measure } from '../../automations/threshold';
import { automations } from '../../db/schema';
import type { Payloads } from '../payloads';
import { TaskError, type AttemptContext, type Outcome } from './types';

/**
 * automation_run: runs one automation execution's actions (src/automations/execute.ts). The
 * execution's own rows record each action, so a redelivered or retried task resumes after the
 * actions already done instead of repeating them. A failed action fails the execution, not the
 * task: the task layer's job (running it) succeeded.
 */
export async function automationRun({ env, db, task }: AttemptContext, p: Payloads['automation_run']): Promise<Outcome> {
  const r = await runExecution(env, db, p.execution_id, task.ownerId);
  return { kind: 'succeeded', result: { execution_id: p.execution_id, status: r.status, error: r.error } };
}

/**
 * automation_fire: one fire of an automation's schedule. The execution's event id is this task's
 * id, so a redelivered fire finds the execution it made; the execution then runs in its own
 * automation_run task like every other.
 */
export async function automationFire({ env, db, task, now }: AttemptContext, p: Payloads['automation_fire']): Promise<Outcome> {
  const automation = await db
    .select()
    .from(automations)
    .where(and(eq(automations.id, p.automation_id), eq(automations.ownerId, task.ownerId)))
    .get();
  if (!automation) throw new TaskError(`automation ${p.automation_id} not found`, false);
  const meta = { requestId: `task:${task.id}`, ip: null, userAgent: null, actorUserId: task.ownerId, actorApiKeyId: null };
  const trigger = Trigger.parse(automation.trigger);
  let triggerData: Record<string, unknown> = {
    event_type: 'scheduled',
    schedule_id: task.scheduleId,
    fired_at: new Date(now).toISOString(),
  };
  if (trigger.type === 'threshold') {
    const value = await measure(db, task.ownerId, trigger, now);
    if (!crosses(trigger, value)) return { kind: 'succeeded', result: { fired: false, value } };
    if (await firedWithin(db, automation, trigger, now))
      return { kind: 'succeeded', result: { fired: false, value, reason: 'already fired within the window' } };
    triggerData = {
      event_type: 'threshold',
      metric: trigger.metric,
      value,
      threshold: trigger.value,
      op: trigger.op,
      window_minutes: trigger.window_minutes,
    };
  }
  const e = await fire(env, db, automation, {
    eventId: `schedule:task:${task.id}`,
    triggerData,
    context: {},
    depth: 0,
    originAutomationId: null,
    meta,
  });
  return { kind: 'succeeded', result: { execution_id: e.id, status: e.status } };
}
