import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getDb } from '../../src/db/client';
import { train } from '../../src/recommendations/engine';
import { createModel, loadArtefact, saveVersion } from '../../src/recommendations/models';
import { register } from '../helpers';

describe('artefact storage in D1', () => {
  it('stores an artefact across many chunk rows and reads back exactly the same value', async () => {
    const db = getDb(env.DB);
    const user = await register();
    const model = await createModel(db, user.id, {
      name: 'chunks',
      algorithm: 'content_based',
      recommendationType: 'content_based',
      parameters: { max_terms: 50 },
    });
    const docs = new Map(
      Array.from({ length: 30 }, (_, i) => [
        `item${i}`,
        { features: { category: `c${i % 3}` }, content: `word${i} shared text number ${i}` },
      ]),
    );
    const artefact = train('content_based', { max_terms: 50 }, { rows: [], docs });
    const saved = await saveVersion(db, model, artefact, Date.now(), {}, 64);
    const chunks = await env.DB.prepare('SELECT count(*) AS n FROM rec_model_chunks WHERE model_id = ? AND version = 1')
      .bind(model.id)
      .first<{ n: number }>();
    expect(chunks!.n).toBe(Math.ceil(JSON.stringify(artefact).length / 64));
    expect(saved.trainingSummary).toMatchObject({ chunks: chunks!.n });
    expect(await loadArtefact(db, saved)).toEqual(artefact);
    // A second save from the same starting version conflicts instead of interleaving chunks.
    await expect(saveVersion(db, model, artefact, Date.now(), {}, 64)).rejects.toMatchObject({ code: 'conflict' });
  });
});
