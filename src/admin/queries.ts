import { sql } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import { type DB, runBatch } from '../db/client';

/**
 * The full-text indexes: FTS5 tables over a content table (migrations 0002 and 0017), kept in
 * step by triggers. They only drift if a row was written around the triggers (a manual
 * `wrangler d1 execute`, a restored backup), and then a search misses it or finds ghosts.
 */
const SEARCH_INDEXES = [
  { index: 'documents_fts', table: 'documents' },
  { index: 'knowledge_chunks_fts', table: 'knowledge_chunks' },
] as const;

/**
 * Rebuilds each index from its content table (FTS5's `rebuild` command: drop every entry, read
 * every row again) and records it in the audit log, in one D1 batch, so the audit entry exists
 * exactly when the rebuild happened. A rebuild reads the whole table in one statement: fine at
 * this service's sizes, but on a table of millions of rows it would need D1's statement time
 * limit to be watched.
 */
export async function rebuildSearchIndexes(db: DB, meta: RequestMeta) {
  const tables = SEARCH_INDEXES.map((s) => s.table);
  await runBatch(db, [
    ...SEARCH_INDEXES.map((s) => db.run(sql.raw(`INSERT INTO ${s.index}(${s.index}) VALUES ('rebuild')`))),
    auditInsert(db, meta, { action: 'admin.reindex', targetType: 'maintenance', targetId: 'search', details: { indexes: tables } }),
  ]);
  const indexes = [];
  for (const s of SEARCH_INDEXES) {
    const row = await db.get<{ n: number }>(sql.raw(`SELECT count(*) AS n FROM ${s.table}`));
    indexes.push({ ...s, rows: row?.n ?? 0 });
  }
  return indexes;
}
