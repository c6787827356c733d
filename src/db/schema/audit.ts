/** The append-only audit log and its retention checkpoints (src/audit). */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { now } from './columns';

/**
 * One row per auth event and per write, inserted in the same D1 batch as the change it
 * describes, so a change without its audit row (or the reverse) cannot exist.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull().default(now),
    actorUserId: integer('actor_user_id'),
    actorApiKeyId: integer('actor_api_key_id'),
    action: text('action').notNull(),
    outcome: text('outcome', { enum: ['success', 'failure'] }).notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** Hash of the previous sealed entry (or of the retention checkpoint it follows). */
    prevHash: text('prev_hash'),
    /** SHA-256 over prev_hash and this entry's canonical form; null until the chain sealer reaches it. */
    hash: text('hash'),
  },
  (t) => [
    index('audit_actor_idx').on(t.actorUserId, t.id),
    index('audit_action_idx').on(t.action, t.id),
    index('audit_at_idx').on(t.at),
    index('audit_target_idx').on(t.targetType, t.targetId, t.id),
    index('audit_target_type_idx').on(t.targetType, t.id),
    index('audit_outcome_idx').on(t.outcome, t.id),
  ],
);

/**
 * Where the verifiable chain starts after retention removed older entries: the id and hash of
 * the last removed entry, so the first remaining entry still links to something known.
 */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  uptoId: integer('upto_id').notNull(),
  hash: text('hash').notNull(),
  removed: integer('removed').notNull(),
  reason: text('reason').notNull(),
  createdAt: integer('created_at').notNull().default(now),
});
