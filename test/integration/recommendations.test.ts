import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin } from '../helpers';

const R = '/api/v3/recommendations';

async function stats(token: string) {
  return (await api('GET', `${R}/stats`, { token })).json;
}

async function trainedModel(token: string, body: Record<string, unknown>) {
  const created = await api('POST', `${R}/models`, { token, body });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const trained = await api('POST', `${R}/models/${created.json.id}/train`, { token });
  expect(trained.status, JSON.stringify(trained.json)).toBe(200);
  return trained.json as { id: string; version: number };
}

// The first account registered in a file is its admin (per-file storage).
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
beforeAll(async () => {
  admin = await registerAndLogin();
});

const recommend = (token: string, body: Record<string, unknown>) => api('POST', `${R}/recommendations`, { token, body });

describe("recommendations: the seeds' curl examples, verbatim", () => {
  // First test of the file: its model is the file's first, so it gets the seeds' id rec_model_1.
  it('interaction, item features, model, train rec_model_1, recommend, stats', async () => {
    const { token } = admin;
    const interaction = await api('POST', `${R}/interactions`, {
      token,
      body: { user_id: 'user123', item_id: 'item456', interaction_type: 'purchase', rating: 5.0 },
    });
    expect(interaction.status).toBe(201);
    expect(interaction.json).toMatchObject({ user_id: 'user123', item_id: 'item456', interaction_type: 'purchase', rating: 5, weight: 5 });
    // Another shopper who bought the same headphones and something else.
    for (const item_id of ['item456', 'item789']) {
      expect(
        (await api('POST', `${R}/interactions`, { token, body: { user_id: 'user999', item_id, interaction_type: 'purchase' } })).status,
      ).toBe(201);
    }

    const item = await api('POST', `${R}/items/features`, {
      token,
      body: {
        item_id: 'item456',
        features: { category: 'electronics', price: 299.99, brand: 'TechCorp' },
        content: 'High-quality wireless headphones with noise cancellation',
      },
    });
    expect(item.status).toBe(200);
    expect(item.json).toMatchObject({ item_id: 'item456', features: { category: 'electronics', price: 299.99, brand: 'TechCorp' } });

    const model = await api('POST', `${R}/models`, {
      token,
      body: {
        name: 'Product Recommendation Model',
        recommendation_type: 'collaborative_filtering',
        algorithm: 'user_based_cf',
        parameters: { min_similarity: 0.3 },
      },
    });
    expect(model.status).toBe(201);
    expect(model.json).toMatchObject({
      id: 'rec_model_1',
      algorithm: 'user_based_cf',
      recommendation_type: 'collaborative_filtering',
      parameters: { min_similarity: 0.3, neighbors: 50 },
      status: 'untrained',
      version: 0,
    });

    const trained = await api('POST', `${R}/models/rec_model_1/train`, { token });
    expect(trained.status).toBe(200);
    expect(trained.json).toMatchObject({
      status: 'trained',
      version: 1,
      training_summary: { interactions: 3, users: 2, items: 2, chunks: 1 },
    });

    const recs = await recommend(token, { user_id: 'user123', model_id: 'rec_model_1', num_recommendations: 10, exclude_interacted: true });
    expect(recs.status).toBe(200);
    expect(recs.json).toMatchObject({ user_id: 'user123', model_id: 'rec_model_1', model_version: 1, strategy: 'model' });
    expect(recs.json.recommendations).toEqual([
      { item_id: 'item789', score: expect.any(Number), reason: 'liked by 1 user with similar taste', source: 'user_based_cf' },
    ]);
    // cosine(user123, user999) = 1/√2, times user999's dampened purchase weight log(1 + 5).
    expect(recs.json.recommendations[0].score).toBeCloseTo(Math.SQRT1_2 * Math.log1p(5), 3);

    const s = await stats(token);
    expect(s).toMatchObject({
      scope: 'all',
      interactions: { total: 3, by_type: { purchase: 3 }, distinct_users: 2, distinct_items: 2, per_user: 1.5 },
      items_with_features: 1,
      models: { total: 1, trained: 1, by_algorithm: { user_based_cf: 1 } },
    });
  });
});

describe('recommendations: access', () => {
  it('a model and its data belong to the creating account; admins see every model', async () => {
    const a = await registerAndLogin();
    const b = await registerAndLogin();
    await api('POST', `${R}/interactions`, { token: a.token, body: { user_id: 'shared-name', item_id: 'x1', interaction_type: 'like' } });
    const model = await trainedModel(a.token, { name: 'mine', algorithm: 'popularity' });
    for (const [method, path, body] of [
      ['GET', `${R}/models/${model.id}`, undefined],
      ['POST', `${R}/models/${model.id}/train`, undefined],
      ['POST', `${R}/recommendations`, { model_id: model.id, user_id: 'shared-name' }],
    ] as const) {
      expectError(await api(method, path, { token: b.token, body }), 404, 'not_found');
    }
    expect((await api('GET', `${R}/models`, { token: b.token })).json.items).toEqual([]);
    expect((await stats(b.token)).interactions.total).toBe(0);
    expect((await stats(b.token)).scope).toBe('own');
    expect((await api('GET', `${R}/models/${model.id}`, { token: admin.token })).json.owner_id).toBe(a.user.id);
    // An admin using someone's model reads that owner's data.
    const viaAdmin = await recommend(admin.token, { model_id: model.id, user_id: 'someone-new' });
    expect(viaAdmin.json.recommendations.map((r: { item_id: string }) => r.item_id)).toEqual(['x1']);

    // Viewers may read recommendations but not write data; API keys need the scopes.
    const demoted = await api('PATCH', `/api/v3/auth/users/${b.user.id}`, { token: admin.token, body: { role: 'viewer' } });
    expect(demoted.status).toBe(200);
    expectError(
      await api('POST', `${R}/interactions`, { token: b.token, body: { user_id: 'u', item_id: 'i', interaction_type: 'view' } }),
      403,
      'forbidden',
    );
    expect((await stats(b.token)).interactions.total).toBe(0);
  });
});

describe('recommendations: bad input is refused and stores nothing', () => {
  it('400 for invalid bodies, parameters and families; counts unchanged', async () => {
    const { token } = await registerAndLogin();
    const before = await stats(token);
    const good = { user_id: 'u1', item_id: 'i1', interaction_type: 'view' };
    const bad: Array<[string, unknown]> = [
      ['/interactions', { ...good, interaction_type: 'rating' }],
      ['/interactions', { ...good, rating: 6, interaction_type: 'rating' }],
      ['/interactions', { ...good, user_id: 'has space' }],
      ['/interactions', { ...good, owner_id: 1 }],
      ['/interactions/bulk', { interactions: [good, good, { ...good, interaction_type: 'teleport' }] }],
      ['/interactions/bulk', { interactions: Array.from({ length: 1001 }, () => good) }],
      ['/interactions/bulk', { interactions: [] }],
      ['/items/features', { item_id: 'i1', features: { nested: { no: 1 } } }],
      ['/items/features', { item_id: 'i1', features: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i])) }],
      ['/items/features/bulk', { items: [{ item_id: 'ok' }, { item_id: 'i1', content: 'x'.repeat(10_001) }] }],
      ['/models', { name: 'm', algorithm: 'user_based_cf', parameters: { min_similarity: 2 } }],
      ['/models', { name: 'm', algorithm: 'user_based_cf', parameters: { unknown_knob: 1 } }],
      ['/models', { name: 'm', recommendation_type: 'content_based', algorithm: 'item_based_cf' }],
      ['/models', { name: 'm', recommendation_type: 'astrology' }],
      ['/models', { name: 'm' }],
      ['/models', { name: 'm', algorithm: 'hybrid', parameters: { weights: { popularity: 0 } } }],
      ['/models', { name: 'm', algorithm: 'matrix_factorization', parameters: { factors: 1000 } }],
      ['/recommendations', { model_id: 'rec_model_1', num_recommendations: 0 }],
      ['/recommendations', { model_id: 'model-1' }],
    ];
    for (const [path, body] of bad) {
      const res = await api('POST', `${R}${path}`, { token, body });
      expectError(res, 400, 'validation_error');
    }
    expect(await stats(token)).toEqual(before);
    expectError(await api('POST', `${R}/models/rec_model_abc/train`, { token }), 400, 'validation_error');
    expectError(await api('POST', `${R}/models/rec_model_99999/train`, { token }), 404, 'not_found');
  });

  it('409 when training without data or recommending from an untrained model', async () => {
    const { token } = await registerAndLogin();
    const cf = await api('POST', `${R}/models`, { token, body: { name: 'cf', algorithm: 'item_based_cf' } });
    expectError(await api('POST', `${R}/models/${cf.json.id}/train`, { token }), 409, 'conflict');
    expectError(await recommend(token, { model_id: cf.json.id, user_id: 'u' }), 409, 'conflict');
    const content = await api('POST', `${R}/models`, { token, body: { name: 'c', algorithm: 'content_based' } });
    expectError(await api('POST', `${R}/models/${content.json.id}/train`, { token }), 409, 'conflict');
  });

  it('an event_id posted twice is stored once', async () => {
    const { token } = await registerAndLogin();
    const body = { user_id: 'u1', item_id: 'i1', interaction_type: 'like', event_id: 'evt-1' };
    const first = await api('POST', `${R}/interactions`, { token, body });
    const second = await api('POST', `${R}/interactions`, { token, body });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.json.id).toBe(first.json.id);
    const bulk = await api('POST', `${R}/interactions/bulk`, { token, body: { interactions: [body, { ...body, event_id: 'evt-2' }] } });
    expect(bulk.json).toEqual({ received: 2, inserted: 1, duplicates: 1 });
    expect((await stats(token)).interactions.total).toBe(2);
  });
});

describe('recommendations: incremental updates, cold start, stored versions', () => {
  const ids = (res: { json: { recommendations: Array<{ item_id: string }> } }) => res.json.recommendations.map((r) => r.item_id);

  it('a new interaction is excluded and counted at once, without retraining', async () => {
    const { token } = await registerAndLogin();
    const interactions = [
      ...['a', 'b', 'c'].map((item_id) => ({ user_id: 'fan1', item_id, interaction_type: 'like' })),
      ...['a', 'b', 'd'].map((item_id) => ({ user_id: 'fan2', item_id, interaction_type: 'like' })),
      { user_id: 'me', item_id: 'a', interaction_type: 'view' },
    ];
    await api('POST', `${R}/interactions/bulk`, { token, body: { interactions } });
    const cf = await trainedModel(token, { name: 'items', algorithm: 'item_based_cf' });
    const first = await recommend(token, { model_id: cf.id, user_id: 'me', num_recommendations: 3 });
    expect(ids(first)).toEqual(['b', 'c', 'd']);
    expect(first.json.recommendations[0].reason).toBe('users who liked a also liked b');

    await api('POST', `${R}/interactions`, { token, body: { user_id: 'me', item_id: 'b', interaction_type: 'purchase' } });
    const after = await recommend(token, { model_id: cf.id, user_id: 'me', num_recommendations: 3 });
    expect(after.json.model_version).toBe(1);
    expect(ids(after)).not.toContain('b');
    expect(
      after.json.recommendations.every(
        (r: { score: number }, i: number, all: Array<{ score: number }>) => i === 0 || all[i - 1]!.score >= r.score,
      ),
    ).toBe(true);

    // Popularity is read live: b (likes 3 + 3, purchase 5 = 11) leads until five purchases of z
    // (25) overtake it, with no retrain.
    const pop = await trainedModel(token, { name: 'pop', recommendation_type: 'popularity' });
    expect(ids(await recommend(token, { model_id: pop.id, user_id: 'newcomer', num_recommendations: 1 }))).toEqual(['b']);
    await api('POST', `${R}/interactions/bulk`, {
      token,
      body: { interactions: Array.from({ length: 5 }, (_, i) => ({ user_id: `buyer${i}`, item_id: 'z', interaction_type: 'purchase' })) },
    });
    const live = await recommend(token, { model_id: pop.id, user_id: 'newcomer', num_recommendations: 1 });
    expect(live.json.recommendations[0]).toMatchObject({
      item_id: 'z',
      reason: 'popular with other users (interaction weight 25)',
      source: 'popularity',
    });
  });

  it('cold start: an unknown user gets popularity, or content from the liked items and features given', async () => {
    const { token } = await registerAndLogin();
    const items = [
      { item_id: 'hp1', features: { category: 'audio' }, content: 'wireless headphones noise cancellation' },
      { item_id: 'hp2', features: { category: 'audio' }, content: 'over-ear headphones with noise cancellation' },
      { item_id: 'tent', features: { category: 'outdoor' }, content: 'two person camping tent' },
      { item_id: 'stove', features: { category: 'outdoor' }, content: 'camping stove lightweight' },
    ];
    await api('POST', `${R}/items/features/bulk`, { token, body: { items } });
    const interactions = [
      { user_id: 'camper', item_id: 'tent', interaction_type: 'purchase' },
      { user_id: 'camper', item_id: 'stove', interaction_type: 'purchase' },
      { user_id: 'listener', item_id: 'hp1', interaction_type: 'like' },
    ];
    await api('POST', `${R}/interactions/bulk`, { token, body: { interactions } });
    const cf = await trainedModel(token, { name: 'cf', algorithm: 'user_based_cf' });

    const anonymous = await recommend(token, { model_id: cf.id, num_recommendations: 2 });
    expect(anonymous.json).toMatchObject({ user_id: null, strategy: 'popularity_fallback' });
    expect(ids(anonymous)).toEqual(['stove', 'tent']);

    const liked = await recommend(token, { model_id: cf.id, user_id: 'brand-new', liked_items: ['hp1'], num_recommendations: 1 });
    expect(liked.json).toMatchObject({
      strategy: 'content_cold_start',
      recommendations: [{ item_id: 'hp2', reason: 'similar to hp1 (content)', source: 'content_based' }],
    });

    const byFeatures = await recommend(token, { model_id: cf.id, features: { category: 'outdoor' }, num_recommendations: 2 });
    expect(byFeatures.json.strategy).toBe('content_cold_start');
    expect(ids(byFeatures).sort()).toEqual(['stove', 'tent']);
    expect(byFeatures.json.recommendations[0].reason).toBe('matches your preferred features (category=outdoor)');

    // New item, added after training: a content model recommends it without a retrain.
    const content = await trainedModel(token, { name: 'content', recommendation_type: 'content_based' });
    await api('POST', `${R}/items/features`, {
      token,
      body: { item_id: 'sleeping-bag', features: { category: 'outdoor' }, content: 'camping sleeping bag for a tent' },
    });
    const fresh = await recommend(token, { model_id: content.id, user_id: 'camper', num_recommendations: 1 });
    expect(fresh.json.recommendations[0]).toMatchObject({ item_id: 'sleeping-bag', source: 'content_based' });
    expect(fresh.json.recommendations[0].reason).toMatch(/^similar to (tent|stove) \(content\)$/);
  });

  it('each training stores a new version in chunks; the two newest versions are kept', async () => {
    const { token } = await registerAndLogin();
    await api('POST', `${R}/interactions/bulk`, {
      token,
      body: {
        interactions: Array.from({ length: 40 }, (_, i) => ({
          user_id: `u${i % 8}`,
          item_id: `i${(i * 7) % 13}`,
          interaction_type: 'like',
        })),
      },
    });
    const model = await trainedModel(token, {
      name: 'mf',
      algorithm: 'matrix_factorization',
      parameters: { factors: 4, iterations: 5, seed: 3 },
    });
    const first = await recommend(token, { model_id: model.id, user_id: 'u1', num_recommendations: 5 });
    const numericId = Number(model.id.replace('rec_model_', ''));
    for (const expected of [2, 3]) {
      const res = await api('POST', `${R}/models/${model.id}/train`, { token });
      expect(res.json.version).toBe(expected);
    }
    const versions = await env.DB.prepare('SELECT DISTINCT version FROM rec_model_chunks WHERE model_id = ? ORDER BY version')
      .bind(numericId)
      .all<{ version: number }>();
    expect(versions.results.map((r) => r.version)).toEqual([2, 3]);
    // Seeded: retraining on the same data gives the same recommendations.
    const later = await recommend(token, { model_id: model.id, user_id: 'u1', num_recommendations: 5 });
    expect(later.json.recommendations).toEqual(first.json.recommendations);
    expect(later.json.recommendations[0].reason).toMatch(/^matches your taste profile; users who liked i\d+ also liked i\d+$/);
  });
});
