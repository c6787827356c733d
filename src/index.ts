import { app } from './app';
import { auditCron } from './audit/cron';
import { metricsCron } from './metrics/cron';
import { onCron } from './scheduler/cron';
import { handleQueue } from './tasks/consumer';

export { RateLimiter } from '../durable-objects/rate-limiter';
export { WorkflowRun } from '../durable-objects/workflow-run';
export { Room } from '../durable-objects/room';
export { UserHub } from '../durable-objects/user-hub';
export { RealtimeStats } from '../durable-objects/realtime-stats';
export { TaskDispatcher } from '../durable-objects/task-dispatcher';
export { ScheduleTimer } from '../durable-objects/schedule-timer';
export { AuditChain } from '../durable-objects/audit-chain';
export { MetricsShard } from '../durable-objects/metrics-shard';
export { CacheStats } from '../durable-objects/cache-stats';
export type { AppType } from './app';

export default {
  fetch: app.fetch,
  // dwc-tasks and its dead-letter queue: each message acked or retried on its own.
  queue: (batch, env) => handleQueue(batch, env),
  // Every minute: re-arm lost schedule alarms, fire what they missed, recover lost task messages;
  // seal new audit entries and apply audit retention. Both run even if one fails.
  scheduled: async (_controller, env) => {
    const results = await Promise.allSettled([onCron(env), auditCron(env), metricsCron(env)]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  },
} satisfies ExportedHandler<Env>;
