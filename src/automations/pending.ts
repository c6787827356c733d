import { and, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { automationExecutions, automations } from '../db/schema';

/** Whether an automation_run task may be made for this execution: the owner's, and waiting to run. */
export async function pendingExecution(db: DB, ownerId: number, executionId: number): Promise<boolean> {
  const e = await db
    .select({ status: automationExecutions.status })
    .from(automationExecutions)
    .where(and(eq(automationExecutions.id, executionId), eq(automationExecutions.ownerId, ownerId)))
    .get();
  return e?.status === 'queued';
}

/** Whether an automation_fire task may be made for this automation: the owner's, with a scheduled trigger. */
export async function scheduledAutomation(db: DB, ownerId: number, automationId: number): Promise<boolean> {
  const a = await db
    .select({ triggerType: automations.triggerType })
    .from(automations)
    .where(and(eq(automations.id, automationId), eq(automations.ownerId, ownerId)))
    .get();
  return a?.triggerType === 'scheduled' || a?.triggerType === 'threshold';
}
