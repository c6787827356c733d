/** Automations, their executions and per-action results (src/automations). */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const AUTOMATION_TRIGGERS = ['api_call', 'event_based', 'webhook', 'scheduled', 'threshold'] as const;
export type AutomationTrigger = (typeof AUTOMATION_TRIGGERS)[number];
export const EXECUTION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'refused'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** A user's automation: a trigger, its conditions, and the actions it runs in order. */
export const automations = sqliteTable(
  'automations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    triggerType: text('trigger_type', { enum: AUTOMATION_TRIGGERS }).notNull(),
    trigger: text('trigger', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    actions: text('actions', { mode: 'json' }).$type<Record<string, unknown>[]>().notNull(),
    aiDecisionMaking: integer('ai_decision_making', { mode: 'boolean' }).notNull().default(false),
    learningEnabled: integer('learning_enabled', { mode: 'boolean' }).notNull().default(false),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    /** A webhook trigger's HMAC secret, sealed with sealFor (AAD automations:<id>:webhook_secret). */
    webhookSecret: text('webhook_secret'),
    /** A scheduled trigger's schedule (src/scheduler), whose fires submit automation_fire tasks. */
    scheduleId: integer('schedule_id'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('automations_owner_idx').on(t.ownerId, t.triggerType), index('automations_owner_id_idx').on(t.ownerId, t.id)],
);

/**
 * One firing of an automation. (automation, event_id) is unique: an event delivered twice (a
 * run's projection flushed again, a retried request) finds the execution the first made.
 */
export const automationExecutions = sqliteTable(
  'automation_executions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    automationId: integer('automation_id')
      .notNull()
      .references(() => automations.id, { onDelete: 'cascade' }),
    ownerId: integer('owner_id').notNull(),
    eventId: text('event_id').notNull(),
    status: text('status', { enum: EXECUTION_STATUSES }).notNull(),
    triggerData: text('trigger_data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    context: text('context', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    depth: integer('depth').notNull().default(0),
    originAutomationId: integer('origin_automation_id'),
    taskId: integer('task_id'),
    /** How the action order was chosen: declared, by the AI step, or the fallback after it failed. */
    decision: text('decision', { mode: 'json' }).$type<{ source: string; order: number[]; reason: string | null }>(),
    error: text('error'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    uniqueIndex('automation_executions_event_unique').on(t.automationId, t.eventId),
    index('automation_executions_automation_idx').on(t.automationId, t.id),
    index('automation_executions_owner_idx').on(t.ownerId, t.id),
  ],
);

/**
 * One action of one execution: written `started` before the effect and finished after it, so a
 * redelivered execution task knows which effects already happened. `effect_ref` names what the
 * action made (`run:12`, `task:7`) so events from it can be traced back to this execution.
 */
export const automationActionResults = sqliteTable(
  'automation_action_results',
  {
    executionId: integer('execution_id')
      .notNull()
      .references(() => automationExecutions.id, { onDelete: 'cascade' }),
    actionIndex: integer('action_index').notNull(),
    actionType: text('action_type').notNull(),
    status: text('status', { enum: ['started', 'succeeded', 'failed'] }).notNull(),
    output: text('output', { mode: 'json' }).$type<unknown>(),
    error: text('error'),
    effectRef: text('effect_ref'),
    startedAt: integer('started_at').notNull(),
    durationMs: integer('duration_ms'),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.actionIndex] }), index('automation_action_results_effect_idx').on(t.effectRef)],
);
