import { z } from '@hono/zod-openapi';
import { anyOfRequired } from '../lib/openapi';
import { REC_ALGORITHMS, REC_INTERACTION_TYPES } from '../db/schema';
import { RECOMMENDATION_TYPES } from './weights';

/** Client-chosen user and item ids: short, printable, no spaces. */
const Key = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.:@-]+$/, 'letters, digits and _ . : @ - only');

const FeatureValue = z.union([z.string().max(256), z.number().finite(), z.boolean()]);
export const Features = z
  .record(z.string().min(1).max(64), FeatureValue)
  .refine((r) => Object.keys(r).length <= 50, 'at most 50 features')
  .openapi({ maxProperties: 50, example: { category: 'electronics', price: 299.99, brand: 'TechCorp' } });

export const InteractionBody = z
  .strictObject({
    user_id: Key.openapi({ example: 'user123' }),
    item_id: Key.openapi({ example: 'item456' }),
    interaction_type: z
      .enum(REC_INTERACTION_TYPES)
      .openapi({ description: 'Weights: view 1, like 3, purchase 5, rating = its value (0–5)' }),
    rating: z
      .number()
      .min(0)
      .max(5)
      .optional()
      .openapi({ description: 'Required for `rating`; stored (not weighted) for other types', example: 5 }),
    event_id: z
      .string()
      .max(128)
      .regex(/^[\w.:@-]+$/)
      .optional()
      .openapi({ description: 'Your id for this event: posting it again stores nothing new' }),
  })
  .refine((b) => b.interaction_type !== 'rating' || b.rating !== undefined, {
    message: 'a rating interaction needs `rating`',
    path: ['rating'],
  })
  .openapi('RecInteractionInput', {
    anyOf: [{ properties: { interaction_type: { not: { const: 'rating' } } } }, { required: ['rating'] }],
  });

export const MAX_BULK_INTERACTIONS = 1000;
export const BulkInteractionsBody = z
  .strictObject({ interactions: z.array(InteractionBody).min(1).max(MAX_BULK_INTERACTIONS) })
  .openapi('RecInteractionBulk');

export const InteractionSchema = z
  .object({
    id: z.number().int(),
    user_id: z.string(),
    item_id: z.string(),
    interaction_type: z.enum(REC_INTERACTION_TYPES),
    rating: z.number().nullable(),
    weight: z.number(),
    event_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('RecInteraction');

export const ItemBody = z
  .strictObject({
    item_id: Key.openapi({ example: 'item456' }),
    features: Features.optional(),
    content: z.string().max(10_000).optional().openapi({ example: 'High-quality wireless headphones with noise cancellation' }),
  })
  .openapi('RecItemInput');

export const MAX_BULK_ITEMS = 500;
export const BulkItemsBody = z.strictObject({ items: z.array(ItemBody).min(1).max(MAX_BULK_ITEMS) }).openapi('RecItemBulk');

export const ItemSchema = z
  .object({ item_id: z.string(), features: z.record(z.string(), FeatureValue), content: z.string(), updated_at: z.string() })
  .openapi('RecItem');

export const ModelBody = z
  .strictObject({
    name: z.string().min(1).max(200),
    recommendation_type: z
      .enum(Object.keys(RECOMMENDATION_TYPES) as [string, ...string[]])
      .optional()
      .openapi({ description: 'A family (`collaborative_filtering`, `content_based`, `hybrid`, `popularity`…) or an algorithm name' }),
    algorithm: z
      .enum(REC_ALGORITHMS)
      .optional()
      .openapi({ description: "Defaults to the family's default (collaborative_filtering → user_based_cf)" }),
    parameters: z
      .record(z.string().max(64), z.unknown())
      .optional()
      .openapi({
        maxProperties: 20,
        description: 'Per algorithm; see the README. Unknown names are refused.',
        example: { min_similarity: 0.3 },
      }),
  })
  // Without either, src/recommendations/model-routes.ts has no algorithm to train.
  .openapi('RecModelInput', anyOfRequired('algorithm', 'recommendation_type'));

export const ModelSchema = z
  .object({
    id: z.string().openapi({ example: 'rec_model_1' }),
    name: z.string(),
    algorithm: z.enum(REC_ALGORITHMS),
    recommendation_type: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    version: z.number().int(),
    status: z.enum(['untrained', 'trained']),
    trained_at: z.string().nullable(),
    training_summary: z.record(z.string(), z.unknown()).nullable(),
    owner_id: z.number().int(),
    created_at: z.string(),
  })
  .openapi('RecModel');

export const ModelParam = z.object({
  model_id: z
    .string()
    .max(40)
    .regex(/^rec_model_[1-9][0-9]{0,14}$/)
    .openapi({ param: { name: 'model_id', in: 'path' }, example: 'rec_model_1' }),
});

export const RecommendBody = z
  .strictObject({
    user_id: Key.optional().openapi({ example: 'user123', description: 'Omit for an anonymous visitor (cold start)' }),
    model_id: z
      .string()
      .max(40)
      .regex(/^rec_model_[1-9][0-9]{0,14}$/)
      .openapi({ example: 'rec_model_1' }),
    num_recommendations: z.number().int().min(1).max(100).default(10),
    exclude_interacted: z.boolean().default(true),
    liked_items: z
      .array(Key)
      .max(50)
      .optional()
      .openapi({ description: 'Cold start: items the user says they like (counted as likes for this request only)' }),
    features: Features.optional().openapi({ description: 'Cold start: features the user prefers, matched against item content' }),
  })
  .openapi('RecRecommendInput');

export const RecommendationSchema = z
  .object({
    user_id: z.string().nullable(),
    model_id: z.string(),
    model_version: z.number().int(),
    strategy: z.enum(['model', 'model+popularity', 'popularity_fallback', 'content_cold_start']),
    recommendations: z.array(z.object({ item_id: z.string(), score: z.number(), reason: z.string(), source: z.enum([...REC_ALGORITHMS]) })),
  })
  .openapi('RecRecommendations');

export const EvaluateBody = z
  .strictObject({
    k: z.number().int().min(1).max(50).default(10),
    test_fraction: z.number().gt(0).lt(1).default(0.2),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(7),
    min_user_items: z.number().int().min(2).max(1000).default(5),
    max_users: z.number().int().min(1).max(2000).default(500),
  })
  .openapi('RecEvaluateInput');

const MetricsSchema = z.object({ precision_at_k: z.number(), recall_at_k: z.number(), ndcg_at_k: z.number() });
export const EvaluationSchema = z
  .object({
    model_id: z.string(),
    algorithm: z.enum(REC_ALGORITHMS),
    k: z.number().int(),
    seed: z.number().int(),
    test_fraction: z.number(),
    users_evaluated: z.number().int(),
    held_out_items: z.number().int(),
    training_interactions: z.number().int(),
    model: MetricsSchema,
    popularity_baseline: MetricsSchema,
  })
  .openapi('RecEvaluation');

export const StatsSchema = z
  .object({
    scope: z.enum(['own', 'all']),
    interactions: z.object({
      total: z.number().int(),
      by_type: z.record(z.string(), z.number().int()),
      distinct_users: z.number().int(),
      distinct_items: z.number().int(),
      per_user: z.number(),
    }),
    items_with_features: z.number().int(),
    models: z.object({ total: z.number().int(), trained: z.number().int(), by_algorithm: z.record(z.string(), z.number().int()) }),
  })
  .openapi('RecStats');
