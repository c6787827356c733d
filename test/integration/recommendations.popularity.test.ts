import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, registerAndLogin } from '../helpers';

/*
 * rec_item_popularity is kept by triggers on rec_interactions (migrations/0009). These tests change
 * interactions every way the app and SQL can — single and bulk inserts, retried event_ids,
 * deletes, weight updates, an account's removal — and compare the aggregate with the sum it
 * replaces, computed from the rows themselves.
 */
const R = '/api/v3/recommendations';

type Row = { item_key: string; total: number; count: number };

async function aggregate(ownerId: number): Promise<Row[]> {
  const { results } = await env.DB.prepare('SELECT item_key, total, count FROM rec_item_popularity WHERE owner_id = ? ORDER BY item_key')
    .bind(ownerId)
    .all<Row>();
  return results;
}

async function recomputed(ownerId: number): Promise<Row[]> {
  const { results } = await env.DB.prepare(
    'SELECT item_key, sum(weight) AS total, count(*) AS count FROM rec_interactions WHERE owner_id = ? GROUP BY item_key ORDER BY item_key',
  )
    .bind(ownerId)
    .all<Row>();
  return results;
}

async function expectExact(ownerId: number) {
  const expected = await recomputed(ownerId);
  expect(await aggregate(ownerId)).toEqual(expected);
  return expected;
}

describe('popularity aggregate', () => {
  it('stays equal to the sum of interaction weights through inserts, retries, deletes and updates', async () => {
    const { token, user } = await registerAndLogin();
    const post = (body: unknown) => api('POST', `${R}/interactions`, { token, body });
    const bulk = (interactions: unknown[]) => api('POST', `${R}/interactions/bulk`, { token, body: { interactions } });

    expect((await post({ user_id: 'u1', item_id: 'a', interaction_type: 'purchase', event_id: 'e1' })).status).toBe(201);
    expect((await post({ user_id: 'u2', item_id: 'a', interaction_type: 'rating', rating: 2.5, event_id: 'e2' })).status).toBe(201);
    const first = await bulk([
      { user_id: 'u1', item_id: 'b', interaction_type: 'view', event_id: 'e3' },
      { user_id: 'u2', item_id: 'b', interaction_type: 'like' },
      { user_id: 'u3', item_id: 'c', interaction_type: 'rating', rating: 4 },
      { user_id: 'u3', item_id: 'a', interaction_type: 'view' },
    ]);
    expect(first.json).toEqual({ received: 4, inserted: 4, duplicates: 0 });
    expect(await expectExact(user.id)).toEqual([
      { item_key: 'a', total: 8.5, count: 3 },
      { item_key: 'b', total: 4, count: 2 },
      { item_key: 'c', total: 4, count: 1 },
    ]);

    // Retried event_ids (alone and inside a bulk request) are stored once and counted once.
    const retried = await post({ user_id: 'u1', item_id: 'a', interaction_type: 'purchase', event_id: 'e1' });
    expect(retried.status).toBe(200);
    const again = await bulk([
      { user_id: 'u1', item_id: 'b', interaction_type: 'view', event_id: 'e3' },
      { user_id: 'u2', item_id: 'a', interaction_type: 'rating', rating: 2.5, event_id: 'e2' },
      { user_id: 'u4', item_id: 'c', interaction_type: 'like', event_id: 'e4' },
    ]);
    expect(again.json).toEqual({ received: 3, inserted: 1, duplicates: 2 });
    expect(await expectExact(user.id)).toEqual([
      { item_key: 'a', total: 8.5, count: 3 },
      { item_key: 'b', total: 4, count: 2 },
      { item_key: 'c', total: 7, count: 2 },
    ]);

    // A bulk request that fails validation stores nothing and counts nothing.
    const bad = await bulk([
      { user_id: 'u5', item_id: 'd', interaction_type: 'view' },
      { user_id: 'u5', item_id: 'e', interaction_type: 'teleport' },
    ]);
    expect(bad.status).toBe(400);
    await expectExact(user.id);

    // Deletes and updates made in SQL (retention, repairs) are followed too.
    await env.DB.prepare("DELETE FROM rec_interactions WHERE owner_id = ? AND user_key = 'u3' AND item_key = 'a'").bind(user.id).run();
    await env.DB.prepare("UPDATE rec_interactions SET weight = 1 WHERE owner_id = ? AND event_id = 'e1'").bind(user.id).run();
    await env.DB.prepare("UPDATE rec_interactions SET item_key = 'c' WHERE owner_id = ? AND event_id = 'e3'").bind(user.id).run();
    expect(await expectExact(user.id)).toEqual([
      { item_key: 'a', total: 3.5, count: 2 },
      { item_key: 'b', total: 3, count: 1 },
      { item_key: 'c', total: 8, count: 3 },
    ]);
    // An item whose last interaction goes has no popularity row left.
    await env.DB.prepare("DELETE FROM rec_interactions WHERE owner_id = ? AND item_key = 'b'").bind(user.id).run();
    expect((await expectExact(user.id)).map((r) => r.item_key)).toEqual(['a', 'c']);
  });

  it("is per owner, and an account's removal removes its totals", async () => {
    const a = await registerAndLogin();
    const b = await registerAndLogin();
    for (const { token } of [a, b]) {
      await api('POST', `${R}/interactions/bulk`, {
        token,
        body: { interactions: [{ user_id: 'x', item_id: 'same', interaction_type: 'like' }] },
      });
    }
    expect(await aggregate(a.user.id)).toEqual([{ item_key: 'same', total: 3, count: 1 }]);
    expect(await aggregate(b.user.id)).toEqual([{ item_key: 'same', total: 3, count: 1 }]);

    // Interactions go with their account (ON DELETE CASCADE, which fires the DELETE trigger).
    await env.DB.prepare('DELETE FROM users WHERE id = ?').bind(b.user.id).run();
    expect(await recomputed(b.user.id)).toEqual([]);
    expect(await aggregate(b.user.id)).toEqual([]);
    expect(await aggregate(a.user.id)).toEqual([{ item_key: 'same', total: 3, count: 1 }]);
  });

  it('the popularity model ranks by the live totals, and a new interaction counts at once', async () => {
    const { token, user } = await registerAndLogin();
    const interactions = Array.from({ length: 40 }, (_, i) => ({
      user_id: `u${i % 7}`,
      item_id: `item${i % 13}`,
      interaction_type: (['view', 'like', 'purchase'] as const)[i % 3],
    }));
    await api('POST', `${R}/interactions/bulk`, { token, body: { interactions } });
    const model = await api('POST', `${R}/models`, { token, body: { name: 'pop', algorithm: 'popularity' } });
    expect((await api('POST', `${R}/models/${model.json.id}/train`, { token })).status).toBe(200);

    const top = async () => {
      const res = await api('POST', `${R}/recommendations`, {
        token,
        body: { model_id: model.json.id, user_id: 'newcomer', num_recommendations: 5 },
      });
      expect(res.status).toBe(200);
      return res.json.recommendations.map((r: { item_id: string; score: number }) => [r.item_id, r.score]);
    };
    const ranked = async () =>
      (await recomputed(user.id))
        .sort((x, y) => y.total - x.total || (x.item_key < y.item_key ? -1 : 1))
        .slice(0, 5)
        .map((r) => [r.item_key, r.total]);
    expect(await top()).toEqual(await ranked());

    // Ten purchases of a new item put it first, without a retrain.
    await api('POST', `${R}/interactions/bulk`, {
      token,
      body: { interactions: Array.from({ length: 10 }, (_, i) => ({ user_id: `v${i}`, item_id: 'fresh', interaction_type: 'purchase' })) },
    });
    expect((await top())[0]).toEqual(['fresh', 50]);
    expect(await top()).toEqual(await ranked());
  });
});
