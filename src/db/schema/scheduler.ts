/** Schedules and their fire ledger (src/scheduler). */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const SCHEDULE_KINDS = ['cron', 'interval', 'daily', 'weekly', 'monthly'] as const;
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow', 'cancel_previous'] as const;
export const FIRE_OUTCOMES = ['launched', 'recorded', 'skipped', 'buffered', 'missed'] as const;

export const schedules = sqliteTable(
  'schedules',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    kind: text('kind', { enum: SCHEDULE_KINDS }).notNull(),
    /** The cron pattern fires are computed from (given, or derived for daily/weekly/monthly). */
    cronExpression: text('cron_expression'),
    everySeconds: integer('every_seconds'),
    /** Interval schedules fire at anchor + k × every. */
    anchorAt: integer('anchor_at'),
    /** The kind's own fields as given (time, weekdays, day_of_month). */
    spec: text('spec', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    timezone: text('timezone').notNull(),
    target: text('target', { mode: 'json' }).$type<Record<string, unknown> | null>(),
    overlap: text('overlap', { enum: OVERLAP_POLICIES }).notNull(),
    jitterSeconds: integer('jitter_seconds').notNull().default(0),
    catchUpSeconds: integer('catch_up_seconds').notNull(),
    maxRetries: integer('max_retries').notNull(),
    pauseAfterFailures: integer('pause_after_failures'),
    state: text('state', { enum: ['active', 'paused'] }).notNull(),
    pausedReason: text('paused_reason'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** The next nominal fire time, and when it is due once jitter is added. */
    nextFireAt: integer('next_fire_at'),
    nextRunAt: integer('next_run_at'),
    lastFireAt: integer('last_fire_at'),
    /** Bumped by every change of timing or state; a tick computed on an older version writes nothing. */
    version: integer('version').notNull().default(1),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('schedules_owner_idx').on(t.ownerId, t.id), index('schedules_due_idx').on(t.state, t.nextRunAt)],
);

/**
 * The fire ledger. Its unique (schedule, manual, fire time) key is what makes a fire happen once:
 * whoever inserts the row (the object's alarm or the cron reconcile) fires, the other finds it.
 */
export const scheduleFires = sqliteTable(
  'schedule_fires',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    scheduleId: integer('schedule_id')
      .notNull()
      .references(() => schedules.id, { onDelete: 'cascade' }),
    ownerId: integer('owner_id').notNull(),
    manual: integer('manual', { mode: 'boolean' }).notNull().default(false),
    fireAt: integer('fire_at').notNull(),
    /** fire_at plus this fire's jitter: when it was meant to start. */
    dueAt: integer('due_at').notNull(),
    firedAt: integer('fired_at').notNull(),
    source: text('source', { enum: ['alarm', 'cron', 'manual', 'buffer'] }).notNull(),
    outcome: text('outcome', { enum: FIRE_OUTCOMES }).notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [
    uniqueIndex('schedule_fires_unique').on(t.scheduleId, t.manual, t.fireAt),
    index('schedule_fires_schedule_idx').on(t.scheduleId, t.id),
    index('schedule_fires_owner_idx').on(t.ownerId, t.firedAt),
  ],
);
