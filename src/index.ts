import { app } from './app';

export { RateLimiter } from '../durable-objects/rate-limiter';
export { WorkflowRun } from '../durable-objects/workflow-run';
export { Room } from '../durable-objects/room';
export { UserHub } from '../durable-objects/user-hub';
export { RealtimeStats } from '../durable-objects/realtime-stats';
export type { AppType } from './app';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
