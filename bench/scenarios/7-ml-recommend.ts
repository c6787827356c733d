import type { Scenario } from '../lib/types';

/**
 * Scenario 7 — ML and recommendations: train and predict on a 10k-row dataset, recommend for
 * 10k users × 5k items. No ML feature exists in this project; the scenario reports "not built"
 * until our OpenAPI document declares an ML or recommendation route.
 */
export const mlRecommend: Scenario = {
  id: 7,
  slug: 'ml-recommend',
  title: 'ML and recommendations',
  peer: '—',
  target: 'train within the Workers CPU limit; p99 recommend < 50 ms',
  budgetMs: 10_000,
  missing: (ctx) =>
    ctx.paths === null
      ? 'our worker did not build or start'
      : [...ctx.paths].some((p) => /\/(ml|recommend)/.test(p))
        ? 'an ML route exists now, but this scenario has not been written yet (bench/scenarios/7-ml-recommend.ts)'
        : 'no ML or recommendation route is declared in our OpenAPI document',
  async run() {
    throw new Error('unreachable: missing() always reports why');
  },
};
