import { describe, expect, it } from 'vitest';
import { featureTokens, scoreContent, trainContent } from '../../src/recommendations/algorithms/content';
import { buildMatrix, profileOf, type InteractionRow } from '../../src/recommendations/algorithms/matrix';
import { scoreMf, trainMf } from '../../src/recommendations/algorithms/mf';
import { scoreItemCf, trainItemCf } from '../../src/recommendations/algorithms/neighbours';
import type { UserContext } from '../../src/recommendations/algorithms/scored';
import { recommend, train } from '../../src/recommendations/engine';
import { metricsFor, split } from '../../src/recommendations/evaluate';
import { splitChunks } from '../../src/recommendations/models';
import { interactionWeight } from '../../src/recommendations/weights';

const row = (userKey: string, itemKey: string, weight = 3, type = 'like', rating: number | null = null): InteractionRow => ({
  userKey,
  itemKey,
  weight,
  type,
  rating,
});
const ctxFor = (profile: Map<string, number>, extra: Partial<UserContext> = {}): UserContext => ({
  userKey: null,
  profile,
  exclude: new Set(profile.keys()),
  popularity: new Map(),
  freshItems: new Map(),
  preferred: null,
  ...extra,
});

describe('recommendation building blocks', () => {
  it('weights: view 1, like 3, purchase 5, a rating its value', () => {
    expect([
      interactionWeight('view', undefined),
      interactionWeight('like', 1),
      interactionWeight('purchase', 5),
      interactionWeight('rating', 2.5),
    ]).toEqual([1, 3, 5, 2.5]);
  });

  it('the matrix sums repeated interactions then dampens with log1p; explicit mode averages ratings', () => {
    const m = buildMatrix([row('u', 'i', 1, 'view'), row('u', 'i', 1, 'view'), row('u', 'j', 5, 'purchase')]);
    expect(m.rows[0]!.get(m.itemIndex.get('i')!)).toBeCloseTo(Math.log1p(2));
    const e = buildMatrix([row('u', 'i', 4, 'rating', 4), row('u', 'i', 2, 'rating', 2), row('u', 'j', 1, 'view')], 'explicit');
    expect([...e.rows[0]!.values()]).toEqual([3]);
  });

  it('item-based cf: cosine similarity of item columns, with the reason naming the source item', () => {
    // a and b co-occur for both users; c only with a for one user.
    const m = buildMatrix([row('u1', 'a', 1), row('u1', 'b', 1), row('u2', 'a', 1), row('u2', 'b', 1), row('u2', 'c', 1)]);
    const art = trainItemCf(m, { neighbors: 5, min_similarity: 0 });
    const a = m.itemIndex.get('a')!;
    const sims = new Map<string, number>();
    for (let x = 0; x < art.neighbours[a]!.length; x += 2) sims.set(art.items[art.neighbours[a]![x]!]!, art.neighbours[a]![x + 1]!);
    expect(sims.get('b')).toBeCloseTo(1, 4);
    expect(sims.get('c')).toBeCloseTo(1 / Math.SQRT2, 4);
    const scored = scoreItemCf(art, ctxFor(new Map([['a', 1]])));
    expect(scored.find((s) => s.item === 'c')!.reason).toBe('users who liked a also liked c');
  });

  it('ALS (seeded) separates two taste groups, folding a user in from their interactions', () => {
    const rows: InteractionRow[] = [];
    for (let u = 0; u < 20; u++) for (let i = 0; i < 6; i++) if ((u + i) % 3 !== 0) rows.push(row(`u${u}`, `${u % 2 ? 'x' : 'y'}${i}`));
    const p = { factors: 4, iterations: 8, regularization: 0.1, alpha: 10, feedback: 'implicit' as const, seed: 1 };
    const art = trainMf(buildMatrix(rows), p);
    expect(trainMf(buildMatrix(rows), p)).toEqual(art);
    const top = scoreMf(
      art,
      ctxFor(
        new Map([
          ['x0', 1],
          ['x1', 1],
        ]),
      ),
    )
      .sort((a, b) => b.score - a.score)
      .slice(0, 4);
    expect(top.every((s) => s.item.startsWith('x'))).toBe(true);
  });

  it('content: TF-IDF cosine with feature tokens (numbers bucketed by magnitude)', () => {
    expect(featureTokens({ Category: 'Audio', price: 299.99, used: false })).toEqual(['category=audio', 'price~1e2', 'used=false']);
    const docs = new Map([
      ['hp1', { features: { category: 'audio' }, content: 'wireless headphones' }],
      ['hp2', { features: { category: 'audio' }, content: 'wired headphones' }],
      ['tent', { features: { category: 'outdoor' }, content: 'camping tent' }],
    ]);
    const art = trainContent(docs, 50);
    const scored = scoreContent(art, ctxFor(new Map([['hp1', 1]])));
    expect(scored.map((s) => s.item)).toEqual(['hp2']);
    expect(scored[0]!.reason).toBe('similar to hp1 (content)');
  });

  it('recommend falls back to popularity, excluding what the user already has', () => {
    const art = train('item_based_cf', { neighbors: 5, min_similarity: 0 }, { rows: [row('u1', 'a')], docs: new Map() });
    const out = recommend(
      art,
      {},
      ctxFor(profileOf([{ itemKey: 'b', weight: 1 }]), {
        popularity: new Map([
          ['a', 9],
          ['b', 5],
          ['c', 2],
        ]),
      }),
      5,
    );
    expect(out.strategy).toBe('popularity_fallback');
    expect(out.items.map((s) => s.item)).toEqual(['a', 'c']);
  });

  it('metrics: precision, recall and NDCG at k with binary relevance', () => {
    const m = metricsFor(['a', 'b', 'c'], new Set(['b', 'd']), 3);
    expect(m.precision_at_k).toBeCloseTo(1 / 3);
    expect(m.recall_at_k).toBeCloseTo(1 / 2);
    expect(m.ndcg_at_k).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)));
  });

  it('the held-out split is seeded, per user, and leaves small users whole', () => {
    const rows = [...Array.from({ length: 10 }, (_, i) => row('big', `i${i}`)), row('small', 'i1'), row('small', 'i2')];
    const o = { k: 5, test_fraction: 0.3, seed: 9, min_user_items: 5, max_users: 10 };
    const a = split(rows, o);
    expect(split(rows, o)).toEqual(a);
    expect(a.heldOut.get('big')!.size).toBe(3);
    expect(a.heldOut.has('small')).toBe(false);
    expect(a.trainRows.filter((r) => r.userKey === 'big').every((r) => !a.heldOut.get('big')!.has(r.itemKey))).toBe(true);
    expect(a.trainRows).toHaveLength(9);
  });

  it('artefacts are split into chunks that join back exactly', () => {
    const json = JSON.stringify({ a: 'x'.repeat(25) });
    const parts = splitChunks(json, 10);
    expect(parts.every((p) => p.length <= 10)).toBe(true);
    expect(parts.join('')).toBe(json);
    expect(splitChunks('', 10)).toEqual(['']);
  });
});
