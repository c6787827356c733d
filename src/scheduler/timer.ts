import type { ScheduleTimer } from '../../durable-objects/schedule-timer';

type TimerMethods = 'arm' | 'disarm' | 'ensureArmed' | 'tick' | 'alarmAt';
export type TimerRpc = { [K in TimerMethods]: (...args: Parameters<ScheduleTimer[K]>) => Promise<Awaited<ReturnType<ScheduleTimer[K]>>> };

/** A schedule's timer object (`idFromName("schedule:<id>")`). */
export const scheduleTimer = (env: Env, scheduleId: number): TimerRpc =>
  env.SCHEDULE_TIMER.get(env.SCHEDULE_TIMER.idFromName(`schedule:${scheduleId}`)) as unknown as TimerRpc;
