import { worker } from './worker';

export { AuditChain } from '../durable-objects/audit-chain';
export { CacheStats } from '../durable-objects/cache-stats';
export { MetricsShard } from '../durable-objects/metrics-shard';
export { RateLimiter } from '../durable-objects/rate-limiter';
export { RealtimeStats } from '../durable-objects/realtime-stats';
export { Room } from '../durable-objects/room';
export { ScheduleTimer } from '../durable-objects/schedule-timer';
export { TaskDispatcher } from '../durable-objects/task-dispatcher';
export { UserHub } from '../durable-objects/user-hub';
export { WorkflowRun } from '../durable-objects/workflow-run';
export type { AppType } from './app';

/** The Worker's entry: its handlers come from the composition root (src/worker.ts). */
export default worker;
