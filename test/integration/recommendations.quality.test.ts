import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/lib/random';
import { api, expectError, registerAndLogin } from '../helpers';

/*
 * A synthetic dataset with real structure: 200 users and 300 items in 5 taste groups (60 items
 * each). Each user makes 20–30 interactions, 85% with items of their own group (popular items of
 * the group more often) and 15% anywhere. Items carry their group's vocabulary and category.
 * Collaborative and content models should find the groups; popularity cannot.
 */
const GROUPS = 5;
const ITEMS_PER_GROUP = 60;
const USERS = 200;
const VOCAB = [
  ['guitar', 'amplifier', 'chord', 'melody', 'vinyl', 'concert'],
  ['tent', 'trail', 'backpack', 'compass', 'summit', 'campfire'],
  ['espresso', 'grinder', 'roast', 'barista', 'latte', 'kettle'],
  ['keyboard', 'monitor', 'processor', 'router', 'laptop', 'firmware'],
  ['yarn', 'knitting', 'fabric', 'sewing', 'quilt', 'needle'],
];
const FILLER = ['great', 'quality', 'classic', 'modern', 'durable', 'popular', 'value', 'premium'];

function dataset() {
  const random = seededRandom(2024);
  const items = Array.from({ length: GROUPS * ITEMS_PER_GROUP }, (_, i) => {
    const g = Math.floor(i / ITEMS_PER_GROUP);
    const words = Array.from({ length: 6 }, () =>
      random() < 0.7 ? VOCAB[g]![Math.floor(random() * 6)]! : FILLER[Math.floor(random() * FILLER.length)]!,
    );
    return { item_id: `i${i}`, features: { category: `cat${g}`, price: Math.round(random() * 500) }, content: words.join(' ') };
  });
  // Within a group, item rank r is chosen with weight 1/sqrt(r+1): some items are group favourites.
  const weights = Array.from({ length: ITEMS_PER_GROUP }, (_, r) => 1 / Math.sqrt(r + 1));
  const total = weights.reduce((s, w) => s + w, 0);
  const pickInGroup = (g: number) => {
    let x = random() * total;
    for (let r = 0; r < ITEMS_PER_GROUP; r++) if ((x -= weights[r]!) <= 0) return g * ITEMS_PER_GROUP + r;
    return g * ITEMS_PER_GROUP + ITEMS_PER_GROUP - 1;
  };
  const interactions: Array<{ user_id: string; item_id: string; interaction_type: 'view' | 'like' | 'purchase' }> = [];
  for (let u = 0; u < USERS; u++) {
    const g = u % GROUPS;
    const n = 20 + Math.floor(random() * 11);
    for (let x = 0; x < n; x++) {
      const item = random() < 0.85 ? pickInGroup(g) : Math.floor(random() * GROUPS * ITEMS_PER_GROUP);
      const t = random();
      interactions.push({ user_id: `u${u}`, item_id: `i${item}`, interaction_type: t < 0.6 ? 'view' : t < 0.85 ? 'like' : 'purchase' });
    }
  }
  return { items, interactions };
}

describe('recommendation quality on clustered synthetic data', () => {
  it('cf, mf, content and hybrid beat the popularity baseline on precision@10 (same seeded split)', async () => {
    const { token } = await registerAndLogin();
    const { items, interactions } = dataset();
    for (let i = 0; i < interactions.length; i += 1000) {
      const res = await api('POST', '/api/v3/recommendations/interactions/bulk', {
        token,
        body: { interactions: interactions.slice(i, i + 1000) },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    expect((await api('POST', '/api/v3/recommendations/items/features/bulk', { token, body: { items } })).json.stored).toBe(300);
    const stats = await api('GET', '/api/v3/recommendations/stats', { token });
    expect(stats.json.interactions).toMatchObject({ total: interactions.length, distinct_users: USERS });

    const figures: Record<
      string,
      { model: { precision_at_k: number; recall_at_k: number; ndcg_at_k: number }; popularity_baseline: { precision_at_k: number } }
    > = {};
    for (const algorithm of ['popularity', 'user_based_cf', 'item_based_cf', 'matrix_factorization', 'content_based', 'hybrid']) {
      const created = await api('POST', '/api/v3/recommendations/models', { token, body: { name: algorithm, algorithm } });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      const evaluation = await api('POST', `/api/v3/recommendations/models/${created.json.id}/evaluate`, {
        token,
        body: { k: 10, seed: 7, test_fraction: 0.2 },
      });
      expect(evaluation.status, JSON.stringify(evaluation.json)).toBe(200);
      expect(evaluation.json).toMatchObject({ k: 10, seed: 7, users_evaluated: USERS, algorithm });
      figures[algorithm] = evaluation.json;
    }
    console.info(
      'precision@10 / recall@10 / ndcg@10 by algorithm',
      JSON.stringify(Object.fromEntries(Object.entries(figures).map(([a, f]) => [a, f.model]))),
    );

    // Reproducible: the same seed gives the same split and the same figures.
    const again = await api(
      'POST',
      `/api/v3/recommendations/models/${(await api('GET', '/api/v3/recommendations/models?limit=100', { token })).json.items.find((m: { algorithm: string }) => m.algorithm === 'item_based_cf').id}/evaluate`,
      { token, body: { k: 10, seed: 7, test_fraction: 0.2 } },
    );
    expect(again.json.model).toEqual(figures.item_based_cf!.model);

    const baseline = figures.popularity!.popularity_baseline.precision_at_k;
    // The popularity model, evaluated as a model, is the baseline itself.
    expect(figures.popularity!.model.precision_at_k).toBe(baseline);
    for (const algorithm of ['user_based_cf', 'item_based_cf', 'matrix_factorization', 'content_based', 'hybrid']) {
      const f = figures[algorithm]!;
      // Same split (same seed), so every model is compared with the same baseline figure.
      expect(f.popularity_baseline.precision_at_k).toBe(baseline);
      expect(f.model.precision_at_k, `${algorithm}: ${JSON.stringify(f.model)} vs popularity ${baseline}`).toBeGreaterThan(baseline * 1.5);
      expect(f.model.ndcg_at_k).toBeGreaterThan(figures.popularity!.model.ndcg_at_k);
    }
  });

  it('evaluation refuses a dataset it cannot split (409)', async () => {
    const { token } = await registerAndLogin();
    const model = await api('POST', '/api/v3/recommendations/models', { token, body: { name: 'empty', algorithm: 'item_based_cf' } });
    const res = await api('POST', `/api/v3/recommendations/models/${model.json.id}/evaluate`, { token, body: {} });
    expectError(res, 409, 'conflict');
  });
});
