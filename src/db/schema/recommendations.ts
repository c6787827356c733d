/** Recommendation interactions, items, popularity, models and model chunks (src/recommendations). */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const REC_INTERACTION_TYPES = ['view', 'like', 'purchase', 'rating'] as const;
export const REC_ALGORITHMS = ['user_based_cf', 'item_based_cf', 'matrix_factorization', 'content_based', 'hybrid', 'popularity'] as const;

/**
 * One user-item event. `user_key`/`item_key` are the client's own ids, scoped to the owning
 * account (each account has its own recommendation dataset). `weight` is fixed at write time from
 * the type (src/recommendations/weights.ts), so a later change of weights never rewrites history.
 * `event_id`, when the client sends one, makes a retried POST store nothing new.
 */
export const recInteractions = sqliteTable(
  'rec_interactions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userKey: text('user_key').notNull(),
    itemKey: text('item_key').notNull(),
    type: text('type', { enum: REC_INTERACTION_TYPES }).notNull(),
    rating: real('rating'),
    weight: real('weight').notNull(),
    eventId: text('event_id'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [
    index('rec_interactions_user_idx').on(t.ownerId, t.userKey),
    index('rec_interactions_item_idx').on(t.ownerId, t.itemKey),
    uniqueIndex('rec_interactions_event_unique').on(t.ownerId, t.eventId),
  ],
);

/** An item's features and free text, upserted by (owner, item key). */
export const recItems = sqliteTable(
  'rec_items',
  {
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    itemKey: text('item_key').notNull(),
    features: text('features', { mode: 'json' }).$type<Record<string, string | number | boolean>>().notNull(),
    content: text('content').notNull().default(''),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  // The updated_at index serves a content model's "items changed since training" read per request.
  (t) => [primaryKey({ columns: [t.ownerId, t.itemKey] }), index('rec_items_updated_idx').on(t.ownerId, t.updatedAt)],
);

/**
 * Live popularity: the sum and count of an owner's interaction weights per item. Maintained only
 * by SQLite triggers on rec_interactions (migrations/0009_recommendation_popularity.sql), in the
 * same transaction as the interaction write, so it is exact; the application only reads it.
 */
export const recItemPopularity = sqliteTable(
  'rec_item_popularity',
  {
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    itemKey: text('item_key').notNull(),
    total: real('total').notNull().default(0),
    count: integer('count').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.itemKey] }),
    index('rec_item_popularity_rank_idx').on(t.ownerId, sql`${t.total} desc`, t.itemKey),
  ],
);

/** A recommendation model; `version` counts trainings, 0 = never trained. */
export const recModels = sqliteTable(
  'rec_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    algorithm: text('algorithm', { enum: REC_ALGORITHMS }).notNull(),
    recommendationType: text('recommendation_type').notNull(),
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    version: integer('version').notNull().default(0),
    trainedAt: integer('trained_at'),
    trainingSummary: text('training_summary', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('rec_models_owner_idx').on(t.ownerId, t.id)],
);

/**
 * A trained artefact, JSON split into chunks of at most 500 000 characters (≤ 1.5 MB of UTF-8, since
 * item keys are ASCII and a UTF-16 unit encodes to at most 3 bytes) so no row nears D1's
 * 2 MB row/value limit. (model, version) identifies one training; seq orders its chunks.
 */
export const recModelChunks = sqliteTable(
  'rec_model_chunks',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => recModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    seq: integer('seq').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.version, t.seq] })],
);
