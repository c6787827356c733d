/** The scheduler's public module: schedules other features create for themselves (automations). */
export { createSchedule, deleteSchedule } from './queries';
