import { z } from '@hono/zod-openapi';
import { REC_ALGORITHMS, type REC_INTERACTION_TYPES } from '../db/schema';

export type InteractionType = (typeof REC_INTERACTION_TYPES)[number];
export type Algorithm = (typeof REC_ALGORITHMS)[number];

/**
 * How much one interaction says about taste. A rating carries its own value (0–5) instead, so a
 * 1-star rating counts less than a view would. Weights are stored on each row at write time.
 */
export const INTERACTION_WEIGHTS: Record<Exclude<InteractionType, 'rating'>, number> = { view: 1, like: 3, purchase: 5 };

export function interactionWeight(type: InteractionType, rating: number | undefined): number {
  if (type === 'rating') return rating ?? 0;
  return INTERACTION_WEIGHTS[type];
}

/**
 * The seeds' `recommendation_type` names (a family) and the canonical algorithm each implies.
 * When `algorithm` is also given it must belong to the family.
 */
export const RECOMMENDATION_TYPES: Record<string, { default: Algorithm; family: readonly Algorithm[] }> = {
  collaborative_filtering: { default: 'user_based_cf', family: ['user_based_cf', 'item_based_cf', 'matrix_factorization'] },
  user_based: { default: 'user_based_cf', family: ['user_based_cf'] },
  item_based: { default: 'item_based_cf', family: ['item_based_cf'] },
  matrix_factorization: { default: 'matrix_factorization', family: ['matrix_factorization'] },
  content_based: { default: 'content_based', family: ['content_based'] },
  hybrid: { default: 'hybrid', family: ['hybrid'] },
  popularity: { default: 'popularity', family: ['popularity'] },
  popularity_based: { default: 'popularity', family: ['popularity'] },
};
for (const a of REC_ALGORITHMS) RECOMMENDATION_TYPES[a] ??= { default: a, family: [a] };

export const HYBRID_COMPONENTS = ['user_based_cf', 'item_based_cf', 'matrix_factorization', 'content_based', 'popularity'] as const;
export type HybridComponent = (typeof HYBRID_COMPONENTS)[number];

const Neighbourhood = {
  neighbors: z.number().int().min(1).max(200).default(50),
  min_similarity: z.number().min(0).max(1).default(0),
};

/** Parameters per algorithm, defaults filled in; stored on the model as resolved. */
export const PARAMETER_SCHEMAS = {
  user_based_cf: z.strictObject(Neighbourhood),
  item_based_cf: z.strictObject(Neighbourhood),
  matrix_factorization: z.strictObject({
    factors: z.number().int().min(2).max(64).default(16),
    iterations: z.number().int().min(1).max(50).default(10),
    regularization: z.number().min(0).max(100).default(0.1),
    alpha: z.number().min(0).max(1000).default(10),
    feedback: z.enum(['implicit', 'explicit']).default('implicit'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
  }),
  content_based: z.strictObject({ max_terms: z.number().int().min(1).max(200).default(50) }),
  hybrid: z.strictObject({
    weights: z
      .partialRecord(z.enum(HYBRID_COMPONENTS), z.number().min(0).max(1))
      .default({ item_based_cf: 0.4, matrix_factorization: 0.4, content_based: 0.2 })
      .refine((w) => Object.values(w).some((v) => (v ?? 0) > 0), 'at least one component weight must be positive'),
  }),
  popularity: z.strictObject({}),
} satisfies Record<Algorithm, z.ZodType>;

export type Params<A extends Algorithm> = z.output<(typeof PARAMETER_SCHEMAS)[A]>;
