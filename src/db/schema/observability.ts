/** Traces and error tracking (src/traces, src/errors-tracking). */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { now } from './columns';
import { runs } from './runs';

/**
 * The caller's span a run was started from, when the start request carried a W3C `traceparent`.
 * A run has a trace of its own (its id derived from the run, src/traces/context.ts, so that the
 * run's object can stamp provider calls without asking anyone); this row links that trace to the
 * caller's, as OpenTelemetry links asynchronous work to the request that queued it.
 */
export const runTraceLinks = sqliteTable('run_trace_links', {
  runId: integer('run_id')
    .primaryKey()
    .references(() => runs.id, { onDelete: 'cascade' }),
  traceId: text('trace_id').notNull(),
  spanId: text('span_id').notNull(),
  createdAt: integer('created_at').notNull().default(now),
});

/**
 * Unexpected errors (the ones answered with a generic 500), one row per fingerprint: the error's
 * class, its message with the variable parts masked, and the route it happened on. The count,
 * first and last time seen and the last occurrence's request id are kept; the sample is the
 * first occurrence's message and stack (server side only, never sent to the client that failed).
 */
export const errorGroups = sqliteTable(
  'error_groups',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    fingerprint: text('fingerprint').notNull().unique(),
    name: text('name').notNull(),
    message: text('message').notNull(),
    route: text('route').notNull(),
    count: integer('count').notNull().default(1),
    firstSeen: integer('first_seen').notNull(),
    lastSeen: integer('last_seen').notNull(),
    sampleRequestId: text('sample_request_id').notNull(),
    sampleMessage: text('sample_message').notNull(),
    sampleStack: text('sample_stack'),
  },
  (t) => [index('error_groups_last_seen').on(t.lastSeen)],
);
