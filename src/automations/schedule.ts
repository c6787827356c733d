import { eq } from 'drizzle-orm';
import type { RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { automations } from '../db/schema';
import { Trigger } from './schemas';
import type { AutomationRow } from './queries';
import { createSchedule, deleteSchedule } from '../scheduler';

/*
 * A `scheduled` trigger is a cron schedule of the scheduler (src/scheduler) owned by the same
 * user, whose target is an `automation_fire` task. The scheduler's guarantees (one fire per
 * slot, catch-up, overlap `skip`) are the trigger's; the schedule shows in /api/v3/scheduler too.
 */

/** Makes the schedule for a scheduled automation and links it; refusals (bad cron, zone) come from the scheduler as 400s. */
export async function syncSchedule(env: Env, db: DB, meta: RequestMeta, row: AutomationRow): Promise<void> {
  if (row.scheduleId !== null) {
    await deleteSchedule(env, db, meta, row.ownerId, row.scheduleId).catch(() => undefined);
    await db.update(automations).set({ scheduleId: null }).where(eq(automations.id, row.id));
  }
  const t = Trigger.parse(row.trigger);
  const common = {
    name: `automation_${row.id}: ${row.name}`.slice(0, 200),
    timezone: t.type === 'scheduled' ? t.timezone : 'UTC',
    target: {
      type: 'task' as const,
      task_type: 'automation_fire' as const,
      payload: { automation_id: row.id },
      priority: 'normal' as const,
      timeout_seconds: 300,
    },
    overlap: 'skip' as const,
    jitter_seconds: 0,
    catch_up_seconds: 600,
    max_retries: 3,
  };
  let s;
  if (t.type === 'scheduled')
    s = await createSchedule(env, db, meta, row.ownerId, 'cron', { ...common, cron_expression: t.cron_expression });
  // A threshold is checked by an interval schedule; each check is an automation_fire task.
  else if (t.type === 'threshold')
    s = await createSchedule(env, db, meta, row.ownerId, 'interval', { ...common, every_seconds: t.check_every_seconds });
  else return;
  await db.update(automations).set({ scheduleId: s.id }).where(eq(automations.id, row.id));
}

export async function dropSchedule(env: Env, db: DB, meta: RequestMeta, row: AutomationRow): Promise<void> {
  if (row.scheduleId !== null) await deleteSchedule(env, db, meta, row.ownerId, row.scheduleId).catch(() => undefined);
}
