import { app, TASK_HANDLERS } from './app';
import { auditCron } from './audit/cron';
import { authCron } from './auth/cron';
import { automationsSubscriber } from './automations/subscriber';
import { consumeEvents, EVENTS_QUEUE_NAME, publishOutbox, type Subscriber } from './lib/events';
import { metricsCron } from './metrics/cron';
import { notificationsSubscriber } from './notifications/subscriber';
import { runsCron } from './runs/cron';
import { schedulerCron } from './scheduler/cron';
import { schedulerTaskHooks } from './scheduler/task-hooks';
import { retentionCron } from './security/cron';
import { installTasks } from './tasks';
import { handleQueue } from './tasks/consumer';
import { tasksCron } from './tasks/cron';
import { tracesSubscriber } from './traces/subscriber';

/**
 * The composition root: the one module that knows every feature's background side. It builds the
 * domain-event subscribers, the task handlers and their end-of-task hooks, and the minute cron's
 * jobs, and exposes them as the Worker's handlers. src/app.ts is the HTTP composition (every
 * feature's routes); src/index.ts exports this and the Durable Object classes.
 */

// Installed when this module loads, before the Worker handles anything. (The handlers are listed in
// src/app.ts, whose task routes describe each type's payload with them.)
installTasks({ handlers: TASK_HANDLERS, onEnd: [schedulerTaskHooks] });

/** Who hears which domain event (src/lib/events.ts), in this order. */
export const SUBSCRIBERS: readonly Subscriber[] = [automationsSubscriber, notificationsSubscriber, tracesSubscriber];

/** Outbox rows older than this are the cron's to send: a request or consumer that stored them normally already did. */
const OUTBOX_SWEEP_AFTER_MS = 30_000;

/** Every minute; each job runs even if another fails, and a failure fails the invocation (Workers Logs shows it). */
const CRON_JOBS: readonly ((env: Env) => Promise<unknown>)[] = [
  runsCron,
  schedulerCron,
  tasksCron,
  auditCron,
  authCron,
  metricsCron,
  retentionCron,
  (env) => publishOutbox(env, OUTBOX_SWEEP_AFTER_MS),
];

export const worker = {
  fetch: app.fetch,
  // dwc-tasks and its dead-letter queue run tasks; dwc-events carries domain events. Each message
  // is acked or retried on its own.
  queue: (batch, env) => (batch.queue === EVENTS_QUEUE_NAME ? consumeEvents(batch, env, SUBSCRIBERS) : handleQueue(batch, env)),
  scheduled: async (_controller, env) => {
    const results = await Promise.allSettled(CRON_JOBS.map((job) => job(env)));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  },
} satisfies ExportedHandler<Env>;
