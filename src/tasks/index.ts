/**
 * The task runner's public module. Features submit and cancel tasks, register handlers for the task
 * types they own (their task-handler.ts, installed by src/worker.ts), and reuse a few of the
 * runner's pieces (payload validation, outbound URL policy, webhook signing). The runner itself
 * imports no feature.
 */
export { planRetry, QUEUE_MAX_DELAY_SECONDS, type RetryPlan } from './backoff';
export { effectInsert, TERMINAL, type TaskRow } from './lifecycle';
export { outboundPolicy, validatePayload } from './payloads';
export { type CancelOutcome, cancelTasks, enqueueTasks, type NewTask, submitTasks } from './queries';
export {
  type AttemptContext,
  type CheckContext,
  type EndedTask,
  installTasks,
  type Outcome,
  type TaskEnd,
  type TaskEndHook,
  TaskError,
  type TaskHandler,
  type TaskHandlers,
  taskHandler,
} from './registry';
export { type PayloadSchemas, StatsQuery } from './schemas';
export { signWebhook } from './signing';
