import { retrying } from './http';
import type { Running } from './workers';

/**
 * Seeds rows straight into our D1, for scenarios that need data at a size the API would take far
 * too long to create (100k documents at ~20 requests/s is more than an hour). Each statement is an
 * `INSERT … SELECT` over a recursive counter, so SQLite generates ROWS_PER_STATEMENT rows itself:
 * nothing but a few integers crosses Miniflare's D1 proxy, and the insert triggers (the documents'
 * full-text index) run for every row exactly as they do for a row the API inserts.
 */
const ROWS_PER_STATEMENT = 10_000;

/** A word every seeded document contains, a rare one, and filler. */
export const COMMON_WORD = 'harvest';
export const RARE_WORD = 'zephyr';
/**
 * The rare word is in RARE_COUNT documents of each owner, all among its oldest 500 (numbers 7,
 * 107, …): a search for it returns the same page at every size, and must find it past everything
 * written since.
 */
export const RARE_COUNT = 5;
const FILLER = [
  'barley',
  'irrigation',
  'orchard',
  'soil',
  'rainfall',
  'tractor',
  'seedling',
  'pasture',
  'compost',
  'greenhouse',
  'drought',
  'yield',
];

/** Documents per synthetic run (node ids n0…n9) and runs per synthetic workflow cycle. */
export const DOCS_PER_RUN = 10;
export const WORKFLOWS_PER_OWNER = 10;

export type SeedOwner = {
  ownerId: number;
  /** Synthetic run and workflow ids start here; disjoint per owner, far above any real run id. */
  idBase: number;
};

/** The run and workflow a seeded owner's i-th document (0-based) belongs to. */
export const runOf = (o: SeedOwner, i: number) => o.idBase + Math.floor(i / DOCS_PER_RUN);
export const workflowOf = (o: SeedOwner, i: number) => o.idBase + (Math.floor(i / DOCS_PER_RUN) % WORKFLOWS_PER_OWNER);

const pick = (expr: string, words: string[]) => `CASE (${expr}) ${words.map((w, k) => `WHEN ${k} THEN '${w}'`).join(' ')} END`;

/**
 * Inserts documents number `from` … `to − 1` of every owner in `owners`, interleaved row by row
 * (owner 0's i-th, owner 1's i-th, …), as several users writing at once would leave them: their
 * postings share the full-text index's doclists. Documents are `kind = 'node'` rows of synthetic
 * runs (documents.run_id and workflow_id have no foreign key; the list routes read only
 * `documents`). About 300 characters each.
 */
export async function seedDocuments(running: Running, owners: SeedOwner[], from: number, to: number): Promise<void> {
  const db = await running.mf.getD1Database('DB');
  const k = owners.length;
  const ownerExpr = `CASE (j % ${k}) ${owners.map((o, x) => `WHEN ${x} THEN ${o.ownerId}`).join(' ')} END`;
  const baseExpr = `CASE (j % ${k}) ${owners.map((o, x) => `WHEN ${x} THEN ${o.idBase}`).join(' ')} END`;
  const i = `(${from} + j / ${k})`;
  const run = `(${baseExpr} + ${i} / ${DOCS_PER_RUN})`;
  const workflow = `(${baseExpr} + (${i} / ${DOCS_PER_RUN}) % ${WORKFLOWS_PER_OWNER})`;
  const w1 = pick(`${i} % ${FILLER.length}`, FILLER);
  const w2 = pick(`(${i} / 7) % ${FILLER.length}`, FILLER);
  const w3 = pick(`(${i} / 49) % ${FILLER.length}`, FILLER);
  const rare = `CASE WHEN ${i} < ${RARE_COUNT * 100} AND ${i} % 100 = 7 THEN ' ${RARE_WORD} sighted' ELSE '' END`;
  const total = (to - from) * k;
  for (let start = 0; start < total; start += ROWS_PER_STATEMENT) {
    const end = Math.min(total, start + ROWS_PER_STATEMENT);
    const now = Date.now();
    const sql = `WITH RECURSIVE seq(j) AS (SELECT ${start} UNION ALL SELECT j + 1 FROM seq WHERE j + 1 < ${end})
      INSERT INTO documents (owner_id, workflow_id, run_id, node_id, kind, title, content, version, metadata, created_at, updated_at)
      SELECT ${ownerExpr}, ${workflow}, ${run}, 'n' || (${i} % ${DOCS_PER_RUN}), 'node',
        'Field report ' || ${i} || ' on the ${COMMON_WORD}',
        'Notes on the ${COMMON_WORD} of ' || ${w1} || ' and ' || ${w2} || ' near the ' || ${w3} || '.' || ${rare} ||
        ' The ${COMMON_WORD} season brought ' || ${w2} || ', ' || ${w3} || ' and ' || ${w1} ||
        ' to plot ' || ${i} || '; the next visit checks the ' || ${w1} || ' again before the ' || ${w3} || ' work starts.',
        1, '{}', ${now}, ${now}
      FROM seq`;
    // Not retried: a retried INSERT could double rows; a dropped connection fails the scenario.
    await db.prepare(sql).run();
  }
}

/**
 * Inserts `count` audit entries, one in `failureEvery` an `auth.login` failure and the rest
 * `document.update` successes, with `hash` NULL: exactly as src/lib/audit.ts inserts an entry
 * (the AuditChain object seals entries later, in id order, whoever inserted them). Call
 * `sealAll` afterwards so the measured listings do not pay for sealing.
 */
export async function seedAudit(running: Running, actorUserId: number, count: number, failureEvery: number): Promise<void> {
  const db = await running.mf.getD1Database('DB');
  for (let start = 0; start < count; start += ROWS_PER_STATEMENT) {
    const end = Math.min(count, start + ROWS_PER_STATEMENT);
    const now = Date.now();
    const sql = `WITH RECURSIVE seq(j) AS (SELECT ${start} UNION ALL SELECT j + 1 FROM seq WHERE j + 1 < ${end})
      INSERT INTO audit_log (at, actor_user_id, action, outcome, target_type, target_id, request_id, ip, user_agent, details)
      SELECT ${now}, ${actorUserId},
        CASE WHEN j % ${failureEvery} = 0 THEN 'auth.login' ELSE 'document.update' END,
        CASE WHEN j % ${failureEvery} = 0 THEN 'failure' ELSE 'success' END,
        'document', CAST(j AS TEXT), 'bench-seed-' || j, '127.0.0.1', 'bench', '{"seeded":true}'
      FROM seq`;
    await db.prepare(sql).run();
  }
}

/** Rows counted by a read-only query (retried on a dropped connection: it changes nothing). */
export async function countRows(running: Running, sql: string): Promise<number> {
  const db = await running.mf.getD1Database('DB');
  const r = await retrying(() => db.prepare(sql).first<{ n: number }>());
  return r?.n ?? 0;
}

/** `EXPLAIN QUERY PLAN` of a statement, its steps joined as SQLite prints them. */
export async function queryPlan(running: Running, sql: string, params: unknown[]): Promise<string> {
  const db = await running.mf.getD1Database('DB');
  const r = await retrying(() =>
    db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>(),
  );
  return r.results.map((x) => x.detail).join('; ');
}
