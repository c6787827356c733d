import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { profileOf } from '../../src/recommendations/algorithms/matrix';
import { recommend, type Artefact } from '../../src/recommendations/engine';
import { seededRandom } from '../../src/lib/random';
import { api, registerAndLogin } from '../helpers';

/*
 * A recommendation reads the artefact from a per-isolate cache and only the top of the popularity
 * aggregate. These tests check that neither changes an answer: a retrain is served at once, and
 * every algorithm answers exactly what a full read (every chunk parsed, popularity grouped over
 * every interaction, 1000 deep) gives.
 */
const R = '/api/v3/recommendations';

const recommendVia = (token: string, body: Record<string, unknown>) => api('POST', `${R}/recommendations`, { token, body });

async function train(token: string, id: string) {
  const res = await api('POST', `${R}/models/${id}/train`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as { version: number };
}

describe('artefact cache', () => {
  it('serves the new version right after a retrain, never the cached old one', async () => {
    const { token } = await registerAndLogin();
    const pairs = (users: string[], items: string[]) =>
      users.flatMap((user_id) => items.map((item_id) => ({ user_id, item_id, interaction_type: 'like' })));
    await api('POST', `${R}/interactions/bulk`, {
      token,
      body: { interactions: [...pairs(['u1', 'u2'], ['a', 'b']), ...pairs(['me'], ['a'])] },
    });
    const model = await api('POST', `${R}/models`, { token, body: { name: 'cf', algorithm: 'item_based_cf' } });
    expect((await train(token, model.json.id)).version).toBe(1);
    const ask = () => recommendVia(token, { model_id: model.json.id, user_id: 'me', num_recommendations: 5 });

    const v1 = await ask();
    expect(v1.json).toMatchObject({ model_version: 1, strategy: 'model' });
    expect(v1.json.recommendations.map((r: { item_id: string }) => r.item_id)).toEqual(['b']);

    // New co-occurrences of a and z: before a retrain z is only a popularity fill (v1 is cached
    // and still current); after it, the model itself recommends z.
    await api('POST', `${R}/interactions/bulk`, { token, body: { interactions: pairs(['u3', 'u4', 'u5'], ['a', 'z']) } });
    const stillV1 = await ask();
    expect(stillV1.json.model_version).toBe(1);
    expect(stillV1.json.recommendations).toContainEqual(expect.objectContaining({ item_id: 'z', source: 'popularity' }));

    expect((await train(token, model.json.id)).version).toBe(2);
    const v2 = await ask();
    expect(v2.json).toMatchObject({ model_version: 2, strategy: 'model' });
    expect(v2.json.recommendations).toContainEqual(expect.objectContaining({ item_id: 'z', source: 'item_based_cf' }));
    expect(v2.json.recommendations[0]).toMatchObject({ item_id: 'z', reason: 'users who liked a also liked z' });
  });
});

/** 60 users over 300 items in three taste groups, plus one heavy user of the 120 most chosen items (40 per group). */
function dataset() {
  const random = seededRandom(99);
  const kinds = ['view', 'like', 'purchase'] as const;
  const out: Array<{ user_id: string; item_id: string; interaction_type: string; rating?: number }> = [];
  for (let u = 0; u < 60; u++) {
    const g = u % 3;
    const n = 8 + Math.floor(random() * 8);
    for (let x = 0; x < n; x++) {
      const item = random() < 0.8 ? g * 100 + Math.floor(random() * random() * 100) : Math.floor(random() * 300);
      if (random() < 0.1)
        out.push({ user_id: `u${u}`, item_id: `i${item}`, interaction_type: 'rating', rating: Math.round(random() * 50) / 10 });
      else out.push({ user_id: `u${u}`, item_id: `i${item}`, interaction_type: kinds[Math.floor(random() * 3)]! });
    }
  }
  for (let i = 0; i < 120; i++)
    out.push({ user_id: 'heavy', item_id: `i${Math.floor(i / 40) * 100 + (i % 40)}`, interaction_type: 'view' });
  return out;
}

/** What the route answered before the cache and the aggregate: a full read of everything. */
async function fullRead(
  ownerId: number,
  modelId: number,
  body: { user_id?: string; num_recommendations: number; exclude_interacted: boolean },
) {
  const model = (await env.DB.prepare('SELECT parameters, version FROM rec_models WHERE id = ?')
    .bind(modelId)
    .first<{ parameters: string; version: number }>())!;
  const chunks = await env.DB.prepare('SELECT data FROM rec_model_chunks WHERE model_id = ? AND version = ? ORDER BY seq')
    .bind(modelId, model.version)
    .all<{ data: string }>();
  const artefact = JSON.parse(chunks.results.map((c) => c.data).join('')) as Artefact;
  const popular = await env.DB.prepare(
    'SELECT item_key, sum(weight) AS total FROM rec_interactions WHERE owner_id = ? GROUP BY item_key ORDER BY total DESC, item_key LIMIT 1000',
  )
    .bind(ownerId)
    .all<{ item_key: string; total: number }>();
  const mine = await env.DB.prepare('SELECT item_key AS itemKey, weight FROM rec_interactions WHERE owner_id = ? AND user_key = ?')
    .bind(ownerId, body.user_id ?? '')
    .all<{ itemKey: string; weight: number }>();
  const profile = profileOf(body.user_id ? mine.results : []);
  const ctx = {
    userKey: body.user_id ?? null,
    profile,
    exclude: body.exclude_interacted ? new Set(profile.keys()) : new Set<string>(),
    popularity: new Map(popular.results.map((r) => [r.item_key, r.total])),
    freshItems: new Map(),
    preferred: null,
  };
  const result = recommend(artefact, JSON.parse(model.parameters), ctx, body.num_recommendations);
  return {
    strategy: result.strategy,
    recommendations: result.items.map((s) => ({
      item_id: s.item,
      score: Math.round(s.score * 1e4) / 1e4,
      reason: s.reason,
      source: s.source,
    })),
  };
}

describe('cached artefact and popularity top-k answer exactly as a full read', () => {
  it('for every algorithm, users with small and large profiles, with and without exclusion', async () => {
    const { token, user } = await registerAndLogin();
    const interactions = dataset();
    for (let i = 0; i < interactions.length; i += 1000) {
      expect((await api('POST', `${R}/interactions/bulk`, { token, body: { interactions: interactions.slice(i, i + 1000) } })).status).toBe(
        201,
      );
    }
    const words = ['guitar', 'tent', 'espresso', 'vinyl', 'trail', 'roast', 'chord', 'summit', 'latte'];
    const items = Array.from({ length: 300 }, (_, i) => ({
      item_id: `i${i}`,
      features: { group: `g${Math.floor(i / 100)}` },
      content: `${words[i % 9]} ${words[(i * 5) % 9]} ${words[Math.floor(i / 100) * 3]}`,
    }));
    expect((await api('POST', `${R}/items/features/bulk`, { token, body: { items: items.slice(0, 150) } })).status).toBe(200);
    expect((await api('POST', `${R}/items/features/bulk`, { token, body: { items: items.slice(150) } })).status).toBe(200);
    const models: Array<Record<string, unknown>> = [
      { algorithm: 'content_based' },
      { algorithm: 'hybrid' },
      { algorithm: 'popularity' },
      { algorithm: 'item_based_cf', parameters: { neighbors: 10 } },
      { algorithm: 'user_based_cf' },
      { algorithm: 'matrix_factorization', parameters: { factors: 4, iterations: 3 } },
      { algorithm: 'hybrid', parameters: { weights: { item_based_cf: 0.5, popularity: 0.5 } } },
      { algorithm: 'hybrid', parameters: { weights: { user_based_cf: 0.6, matrix_factorization: 0.4 } } },
    ];
    const requests = [
      { user_id: 'u1', num_recommendations: 10, exclude_interacted: true },
      { user_id: 'u2', num_recommendations: 100, exclude_interacted: true },
      { user_id: 'u4', num_recommendations: 20, exclude_interacted: false },
      { user_id: 'heavy', num_recommendations: 100, exclude_interacted: true },
      { user_id: 'heavy', num_recommendations: 100, exclude_interacted: false },
      { user_id: 'nobody', num_recommendations: 15, exclude_interacted: true },
      { num_recommendations: 5, exclude_interacted: true },
    ];
    for (const spec of models) {
      const created = await api('POST', `${R}/models`, { token, body: { name: String(spec.algorithm), ...spec } });
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      await train(token, created.json.id);
      const modelId = Number(String(created.json.id).slice('rec_model_'.length));
      for (const request of requests) {
        // Twice: the first read fills the isolate's cache, the second is served from it.
        for (let round = 0; round < 2; round++) {
          const res = await recommendVia(token, { model_id: created.json.id, ...request });
          expect(res.status).toBe(200);
          const label = `${JSON.stringify(spec)} ${JSON.stringify(request)} round ${round}`;
          expect({ strategy: res.json.strategy, recommendations: res.json.recommendations }, label).toEqual(
            await fullRead(user.id, modelId, request),
          );
        }
      }
    }
  });
});
