import { and, desc, eq, getTableColumns, lt, sql, type SQL } from 'drizzle-orm';
import { integer, sqliteTable } from 'drizzle-orm/sqlite-core';
import { auditInsert, type RequestMeta } from '../lib/audit';
import { rawAll, rawRun, type DB } from '../db/client';
import { documents, documentVersions } from '../db/schema';
import { ApiError } from '../lib/errors';

export type DocumentRow = typeof documents.$inferSelect;

export async function getDocument(db: DB, ownerId: number, id: number): Promise<DocumentRow | undefined> {
  return db
    .select()
    .from(documents)
    .where(and(eq(documents.id, id), eq(documents.ownerId, ownerId)))
    .get();
}

export type DocumentFilter = {
  q?: string | undefined;
  run_id?: number | undefined;
  workflow_id?: number | undefined;
  parent_id?: number | undefined;
};

/**
 * FTS5 query from free text, so user input is never syntax: each word becomes a quoted term,
 * matched as a whole word after stemming ("harvests" finds "harvesting"), and a word written with
 * a trailing `*` becomes a prefix term ("sol*" finds "solar"). Whole words are the default because
 * FTS5 seeks through an exact term's doclist next to the owner's, while a prefix first merges
 * every matching term's postings across the whole index (docs/api/documents.md).
 */
export function ftsQuery(q: string): string | null {
  const terms = q.match(/[\p{L}\p{N}]+\*?/gu)?.slice(0, 16) ?? [];
  return terms.length ? terms.map((t) => (t.endsWith('*') ? `"${t.slice(0, -1)}"*` : `"${t}"`)).join(' ') : null;
}

/**
 * The same terms within one owner's documents (migration 0021): the owner's token in the
 * `owner_id` column AND the terms in `title` or `content`, never in `owner_id` (a search for
 * "12" must not find every document of user 12).
 */
export const ownerFtsQuery = (ownerId: number, terms: string) => `{owner_id} : "${ownerId}" AND {title content} : (${terms})`;

/**
 * The FTS5 index (migration 0002) as drizzle sees it: only its rowid, the document id, is read.
 * Declared here, not in src/db/schema, because drizzle-kit cannot create a virtual table.
 */
const documentsFts = sqliteTable('documents_fts', { rowid: integer('rowid').notNull() });

/**
 * One page of the owner's documents, newest first, `limit + 1` rows (see toPage). Each filter has
 * an index ending in id (src/db/schema/documents.ts), so a page reads only the rows it returns.
 *
 * A search walks the full-text index itself in descending rowid (= document id) order, which FTS5
 * serves from its doclists without sorting, and stops at the limit: a page never collects every
 * match in order to sort it. The match carries the owner (ownerFtsQuery), so the walk visits this
 * owner's matches only; `owner_id = ?` on the row stays as the tenant check it always was. Other
 * filters given with `q` are tested on each of the owner's matches in that walk.
 * CROSS JOIN is SQLite's way to pin the join order (its left table is always the outer loop):
 * without it, a later page's `rowid <` bound can tempt the planner into walking the owner's
 * documents and sorting their matches.
 */
export async function listDocuments(db: DB, ownerId: number, f: DocumentFilter, limit: number, beforeId?: number): Promise<DocumentRow[]> {
  const conditions: (SQL | undefined)[] = [
    eq(documents.ownerId, ownerId),
    f.run_id !== undefined ? eq(documents.runId, f.run_id) : undefined,
    f.workflow_id !== undefined ? eq(documents.workflowId, f.workflow_id) : undefined,
    f.parent_id !== undefined ? eq(documents.parentId, f.parent_id) : undefined,
  ];
  if (f.q !== undefined) {
    const terms = ftsQuery(f.q);
    if (!terms) return [];
    const match = ownerFtsQuery(ownerId, terms);
    return db
      .select(getTableColumns(documents))
      .from(documentsFts)
      .crossJoin(documents)
      .where(
        and(
          sql`${documentsFts} MATCH ${match}`,
          eq(documents.id, documentsFts.rowid),
          beforeId ? lt(documentsFts.rowid, beforeId) : undefined,
          ...conditions,
        ),
      )
      .orderBy(desc(documentsFts.rowid))
      .limit(limit + 1)
      .all();
  }
  return db
    .select()
    .from(documents)
    .where(and(...conditions, beforeId ? lt(documents.id, beforeId) : undefined))
    .orderBy(desc(documents.id))
    .limit(limit + 1)
    .all();
}

export async function listVersions(db: DB, documentId: number) {
  return db
    .select()
    .from(documentVersions)
    .where(eq(documentVersions.documentId, documentId))
    .orderBy(desc(documentVersions.version))
    .all();
}

/** Edits create a new version; the previous ones stay readable. Conditional on the version read. */
export async function editDocument(
  db: DB,
  meta: RequestMeta,
  current: DocumentRow,
  change: { title?: string | undefined; content?: string | undefined },
) {
  const version = current.version + 1;
  const title = change.title ?? current.title;
  const content = change.content ?? current.content;
  const [updated] = await db.batch([
    db
      .update(documents)
      .set({ title, content, version, updatedAt: Date.now() })
      .where(and(eq(documents.id, current.id), eq(documents.version, current.version)))
      .returning(),
    rawRun(
      db,
      sql`INSERT INTO document_versions (document_id, version, title, content, created_by)
      SELECT ${current.id}, ${version}, ${title}, ${content}, ${meta.actorUserId} WHERE changes() > 0`,
    ),
    auditInsert(db, meta, { action: 'document.update', targetType: 'document', targetId: current.id, details: { version } }),
  ]);
  if (!updated[0]) throw new ApiError('conflict', 'The document was changed concurrently; fetch it and retry');
  return updated[0];
}

type NewDocument = {
  ownerId: number;
  workflowId: number | null;
  runId: number | null;
  parentId: number | null;
  kind: 'continuation' | 'manual';
  title: string;
  content: string;
  metadata: Record<string, unknown>;
};

/**
 * A new document with its first version and audit row in one batch. The new row's id is read
 * inside the batch as max(id): a D1 batch is one transaction, so no other insert comes between.
 */
async function insertNew(db: DB, meta: RequestMeta, d: NewDocument, audit: { action: string; details: Record<string, unknown> }) {
  const newId = sql`(SELECT max(id) FROM documents)`;
  const [inserted] = await db.batch([
    db
      .insert(documents)
      .values({ ...d, nodeId: null })
      .returning(),
    rawAll(
      db,
      sql`INSERT INTO document_versions (document_id, version, title, content, created_by)
      SELECT id, 1, title, content, ${d.ownerId} FROM documents WHERE id = ${newId}`,
    ),
    auditInsert(db, meta, { action: audit.action, targetType: 'document', targetId: sql`CAST(${newId} AS TEXT)`, details: audit.details }),
  ]);
  return inserted[0]!;
}

/** A continuation of `parentId`. */
export async function insertDocument(
  db: DB,
  meta: RequestMeta,
  d: Omit<NewDocument, 'kind' | 'parentId'> & { parentId: number },
): Promise<DocumentRow> {
  return insertNew(db, meta, { ...d, kind: 'continuation' }, { action: 'document.continue', details: { parent_id: d.parentId } });
}

/** A document a person brought (typed or uploaded; kind `manual`), versioned and audited as every other. */
export async function createDocument(
  db: DB,
  meta: RequestMeta,
  d: { ownerId: number; title: string; content: string; metadata: Record<string, unknown> },
): Promise<DocumentRow> {
  return insertNew(
    db,
    meta,
    { ...d, kind: 'manual', workflowId: null, runId: null, parentId: null },
    { action: 'document.create', details: { source: d.metadata.source ?? null } },
  );
}

/** One stored version of a document. */
export async function getVersion(db: DB, documentId: number, version: number) {
  return db
    .select()
    .from(documentVersions)
    .where(and(eq(documentVersions.documentId, documentId), eq(documentVersions.version, version)))
    .get();
}
