import { objectStub } from '../lib/stubs';
import type { TickResult } from './fire';

/** A schedule's timer (durable-objects/schedule-timer.ts): its alarm fires the schedule. */
export interface TimerRpc {
  /** Points the alarm at `at` (null: no alarm, e.g. paused). */
  arm(scheduleId: number, at: number | null): Promise<void>;
  /** The schedule is gone: forget it. */
  disarm(): Promise<void>;
  /** Re-arms if the alarm is missing or later than `at`; true when it had to. */
  ensureArmed(scheduleId: number, at: number): Promise<boolean>;
  /** Fires what is due (from the cron reconcile, or after a task of this schedule ended). */
  tick(scheduleId: number, source: 'cron' | 'task'): Promise<TickResult>;
  alarmAt(): Promise<number | null>;
}

/** A schedule's timer object (`idFromName("schedule:<id>")`). */
export const scheduleTimer = (env: Env, scheduleId: number) => objectStub<TimerRpc>(env.SCHEDULE_TIMER, `schedule:${scheduleId}`);
