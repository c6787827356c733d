import { app } from './app';
import { onCron } from './scheduler/cron';
import { handleQueue } from './tasks/consumer';

export { RateLimiter } from '../durable-objects/rate-limiter';
export { WorkflowRun } from '../durable-objects/workflow-run';
export { Room } from '../durable-objects/room';
export { UserHub } from '../durable-objects/user-hub';
export { RealtimeStats } from '../durable-objects/realtime-stats';
export { TaskDispatcher } from '../durable-objects/task-dispatcher';
export { ScheduleTimer } from '../durable-objects/schedule-timer';
export type { AppType } from './app';

export default {
  fetch: app.fetch,
  // dwc-tasks and its dead-letter queue: each message acked or retried on its own.
  queue: (batch, env) => handleQueue(batch, env),
  // Every minute: re-arm lost schedule alarms, fire what they missed, recover lost task messages.
  scheduled: (_controller, env) => onCron(env),
} satisfies ExportedHandler<Env>;
