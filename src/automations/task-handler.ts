import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { DB } from '../db/client';
import { automationExecutions, automations } from '../db/schema';
import { invalidField } from '../lib/errors';
import { TaskError, taskHandler } from '../tasks';
import { fire, runExecution } from './execute';
import { Trigger } from './schemas';
import { crosses, firedWithin, measure } from './threshold';

/** Made by execute.ts, one per automation execution. */
const AutomationRunPayload = z.object({ execution_id: z.number().int().positive() }).strict();

/** Made by an automation's schedule (schedule.ts): each fire starts one execution. */
const AutomationFirePayload = z.object({ automation_id: z.number().int().positive() }).strict();

/** Whether an automation_run task may be made for this execution: the owner's, and waiting to run. */
async function pendingExecution(db: DB, ownerId: number, executionId: number): Promise<boolean> {
  const e = await db
    .select({ status: automationExecutions.status })
    .from(automationExecutions)
    .where(and(eq(automationExecutions.id, executionId), eq(automationExecutions.ownerId, ownerId)))
    .get();
  return e?.status === 'queued';
}

/** Whether an automation_fire task may be made for this automation: the owner's, with a scheduled trigger. */
async function scheduledAutomation(db: DB, ownerId: number, automationId: number): Promise<boolean> {
  const a = await db
    .select({ triggerType: automations.triggerType })
    .from(automations)
    .where(and(eq(automations.id, automationId), eq(automations.ownerId, ownerId)))
    .get();
  return a?.triggerType === 'scheduled' || a?.triggerType === 'threshold';
}

export const automationsTaskHandlers = {
  /**
   * automation_run: runs one automation execution's actions (execute.ts). The execution's own
   * rows record each action, so a redelivered or retried task resumes after the actions already
   * done instead of repeating them. A failed action fails the execution, not the task: the task
   * layer's job (running it) succeeded.
   */
  automation_run: taskHandler({
    payload: AutomationRunPayload,
    async check(c, p) {
      if (!(await pendingExecution(c.db, c.ownerId, p.execution_id)))
        throw invalidField(
          [...c.at, 'execution_id'],
          'not one of your automation executions waiting to run; fire automations through /api/v3/automations/{automation_id}/trigger',
        );
    },
    async run({ env, db, task }, p) {
      const r = await runExecution(env, db, p.execution_id, task.ownerId);
      return { kind: 'succeeded', result: { execution_id: p.execution_id, status: r.status, error: r.error } };
    },
  }),

  /**
   * automation_fire: one fire of an automation's schedule. The execution's event id is this task's
   * id, so a redelivered fire finds the execution it made; the execution then runs in its own
   * automation_run task like every other.
   */
  automation_fire: taskHandler({
    payload: AutomationFirePayload,
    async check(c, p) {
      if (!(await scheduledAutomation(c.db, c.ownerId, p.automation_id)))
        throw invalidField([...c.at, 'automation_id'], 'not one of your scheduled automations');
    },
    async run({ env, db, task, now }, p) {
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
    },
  }),
};
