/** Knowledge bases, their sources, chunks and the local vector index (src/knowledge). */
import { blob, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const KNOWLEDGE_SOURCE_KINDS = ['text', 'upload', 'document'] as const;
export const KNOWLEDGE_SOURCE_STATUSES = ['indexing', 'ready'] as const;

/**
 * A knowledge base. `embedding` names the embedding its vectors were made with (the local
 * feature hashing or a Workers AI model): vectors of two embeddings are not comparable, so a base
 * is searched only with the one it was built with.
 */
export const knowledgeBases = sqliteTable(
  'knowledge_bases',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    embedding: text('embedding').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('knowledge_bases_owner_idx').on(t.ownerId, t.id)],
);

/**
 * What was added to a base: typed text, an uploaded file (as the Markdown it converted to) or a
 * snapshot of a document at one version. `indexing` until all of its chunks and vectors are
 * written; search reads `ready` sources only, so a source cut off half-way is never half-found.
 */
export const knowledgeSources = sqliteTable(
  'knowledge_sources',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    baseId: integer('base_id')
      .notNull()
      .references(() => knowledgeBases.id, { onDelete: 'cascade' }),
    ownerId: integer('owner_id').notNull(),
    kind: text('kind', { enum: KNOWLEDGE_SOURCE_KINDS }).notNull(),
    status: text('status', { enum: KNOWLEDGE_SOURCE_STATUSES }).notNull(),
    title: text('title').notNull(),
    content: text('content').notNull(),
    /** kind `document`: the document and the version that was added. */
    documentId: integer('document_id'),
    documentVersion: integer('document_version'),
    /** kind `upload`: the file as received. */
    filename: text('filename'),
    mediaType: text('media_type'),
    bytes: integer('bytes'),
    chunkCount: integer('chunk_count').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('knowledge_sources_base_idx').on(t.baseId, t.id)],
);

/**
 * A passage of a source: `text` is `content.slice(start_offset, end_offset)` of its source, and
 * consecutive chunks overlap. Kept in step with knowledge_chunks_fts by triggers (migration).
 */
export const knowledgeChunks = sqliteTable(
  'knowledge_chunks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id')
      .notNull()
      .references(() => knowledgeSources.id, { onDelete: 'cascade' }),
    baseId: integer('base_id').notNull(),
    ordinal: integer('ordinal').notNull(),
    /** The heading the passage sits under, if any. */
    heading: text('heading'),
    text: text('text').notNull(),
    startOffset: integer('start_offset').notNull(),
    endOffset: integer('end_offset').notNull(),
  },
  (t) => [uniqueIndex('knowledge_chunks_source_ordinal').on(t.sourceId, t.ordinal), index('knowledge_chunks_base_idx').on(t.baseId)],
);

/**
 * The local vector index (KNOWLEDGE_EMBEDDINGS = "local"): each chunk's embedding, stored sparse
 * (index/weight pairs as float32). On Cloudflare with Workers AI the vectors live in Vectorize
 * and this table stays empty.
 */
export const knowledgeVectors = sqliteTable(
  'knowledge_vectors',
  {
    chunkId: integer('chunk_id')
      .primaryKey()
      .references(() => knowledgeChunks.id, { onDelete: 'cascade' }),
    baseId: integer('base_id').notNull(),
    vector: blob('vector').notNull(),
  },
  (t) => [index('knowledge_vectors_base_idx').on(t.baseId)],
);
