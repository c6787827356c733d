import { sql } from 'drizzle-orm';
import type { Principal } from '../lib/access';
import type { DB } from '../db/client';
import { ML_ALGORITHMS, ML_MODEL_TYPES, ML_VERSION_STATUSES } from '../db/schema';
import { toIso, toIsoOrNull } from '../lib/time';
import type { Encoding } from './preprocess';
import { publicModelId, type ModelRow, type VersionRow } from './queries';

export const modelView = (m: ModelRow, storedRows?: number) => ({
  id: publicModelId(m.id),
  name: m.name,
  description: m.description,
  model_type: m.modelType,
  algorithm: m.algorithm,
  parameters: m.parameters,
  active_version: m.activeVersion,
  owner_id: m.ownerId,
  ...(storedRows === undefined ? {} : { stored_rows: storedRows }),
  created_at: toIso(m.createdAt),
  updated_at: toIso(m.updatedAt),
});

export function versionView(v: VersionRow, activeVersion: number | null) {
  const enc = v.encoding as Encoding | null;
  return {
    model_id: publicModelId(v.modelId),
    version: v.version,
    status: v.status,
    active: v.version === activeVersion,
    parameters: v.parameters,
    target_column: v.targetColumn,
    test_size: v.testSize,
    random_state: v.randomState,
    training_rows: v.dataRows,
    features: enc ? enc.features : null,
    classes: enc ? enc.classes : null,
    metrics: (v.metrics as Record<string, unknown> | null) ?? null,
    split: (v.split as Record<string, unknown> | null) ?? null,
    task_id: v.taskId,
    error: v.error,
    created_at: toIso(v.createdAt),
    finished_at: toIsoOrNull(v.finishedAt),
  };
}

const zeroes = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<string, number>;

/** Counted from the stored rows: the caller's own models, or every model for an admin. */
export async function mlStats(db: DB, who: Principal) {
  const all = who.role === 'admin';
  const mine = all ? sql`1 = 1` : sql`m.owner_id = ${who.userId}`;
  const since = Date.now() - 86_400_000;
  // Four reads; a train landing between them can skew one count by that train, no more.
  const [models, versions, rows, preds] = await Promise.all([
    db.all<{ model_type: string; algorithm: string; n: number; active: number }>(
      sql`SELECT model_type, algorithm, count(*) AS n, sum(active_version IS NOT NULL) AS active FROM ml_models m WHERE ${mine} GROUP BY model_type, algorithm`,
    ),
    db.all<{ status: string; n: number }>(
      sql`SELECT v.status, count(*) AS n FROM ml_model_versions v JOIN ml_models m ON m.id = v.model_id WHERE ${mine} GROUP BY v.status`,
    ),
    db.get<{ n: number | null }>(
      sql`SELECT sum(c.row_count) AS n FROM ml_training_chunks c JOIN ml_models m ON m.id = c.model_id WHERE ${mine}`,
    ),
    db.get<{ requests: number; rows: number | null; recent: number | null }>(
      sql`SELECT count(*) AS requests, sum(p.row_count) AS rows, sum(p.created_at >= ${since}) AS recent FROM ml_predictions p JOIN ml_models m ON m.id = p.model_id WHERE ${mine}`,
    ),
  ]);
  const byType = zeroes(ML_MODEL_TYPES);
  const byAlgorithm = zeroes(ML_ALGORITHMS);
  let total = 0;
  let active = 0;
  for (const r of models) {
    byType[r.model_type] = (byType[r.model_type] ?? 0) + r.n;
    byAlgorithm[r.algorithm] = (byAlgorithm[r.algorithm] ?? 0) + r.n;
    total += r.n;
    active += r.active;
  }
  const byStatus = zeroes(ML_VERSION_STATUSES);
  for (const r of versions) byStatus[r.status] = r.n;
  return {
    scope: all ? ('all' as const) : ('own' as const),
    models: total,
    models_by_type: byType,
    models_by_algorithm: byAlgorithm,
    active_models: active,
    versions: byStatus,
    training_rows_stored: rows?.n ?? 0,
    predictions: { requests: preds?.requests ?? 0, rows: preds?.rows ?? 0, last_24h_requests: preds?.recent ?? 0 },
  };
}
