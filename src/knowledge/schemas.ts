import { z } from '@hono/zod-openapi';
import { FileField, MAX_CONTENT_CHARS } from '../documents';
import { anyOfRequired, IdParam } from '../lib/openapi';
import { pageOf } from '../lib/pagination';
import { SEARCH_MODES } from './search';

const id = (name: string) =>
  z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name, in: 'path' }, example: 1 });

export const BaseParams = IdParam;
export const SourceParams = z.object({ id: id('id'), sourceId: id('sourceId') });
export const ChunkParams = z.object({ id: id('id'), chunkId: id('chunkId') });

export const CreateBaseBody = z
  .strictObject({ name: z.string().trim().min(1).max(200), description: z.string().max(2000).optional() })
  .openapi('KnowledgeBaseCreateRequest');
export const UpdateBaseBody = z
  .strictObject({ name: z.string().trim().min(1).max(200).optional(), description: z.string().max(2000).nullable().optional() })
  .refine((b) => b.name !== undefined || b.description !== undefined, { message: 'name or description is required' })
  .openapi('KnowledgeBaseUpdateRequest', anyOfRequired('name', 'description'));

export const KnowledgeBaseSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    embedding: z
      .string()
      .openapi({ description: 'The embedding its vectors were made with: local-hashing-v1 (offline fallback) or a Workers AI model' }),
    source_count: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('KnowledgeBase');
export const KnowledgeBasePage = pageOf(KnowledgeBaseSchema, 'KnowledgeBasePage');

export const AddSourceBody = z
  .union([
    z.strictObject({
      title: z.string().trim().min(1).max(300),
      content: z.string().min(1).max(MAX_CONTENT_CHARS).openapi({ description: 'Text or Markdown' }),
    }),
    z.strictObject({
      document_id: z.number().int().positive().openapi({ description: 'One of your documents (its current version is added)' }),
      title: z.string().trim().min(1).max(300).optional(),
    }),
  ])
  .openapi('KnowledgeSourceRequest');
export const SourceUploadForm = z
  .object({
    file: FileField.openapi({ description: 'PDF, DOCX, HTML, Markdown or plain text (UTF-8), at most UPLOAD_MAX_BYTES' }),
    title: z.string().trim().min(1).max(300).optional(),
  })
  .openapi('KnowledgeSourceUploadForm');

export const SourceSchema = z
  .object({
    id: z.number().int(),
    knowledge_base_id: z.number().int(),
    kind: z.enum(['text', 'upload', 'document']),
    status: z.enum(['indexing', 'ready']),
    title: z.string(),
    document_id: z.number().int().nullable(),
    document_version: z.number().int().nullable(),
    filename: z.string().nullable(),
    media_type: z.string().nullable(),
    bytes: z.number().int().nullable(),
    characters: z.number().int(),
    chunk_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi('KnowledgeSource');
export const SourcePage = pageOf(SourceSchema, 'KnowledgeSourcePage');

export const ChunkSchema = z
  .object({
    chunk_id: z.number().int(),
    source_id: z.number().int(),
    knowledge_base_id: z.number().int(),
    document_id: z.number().int().nullable(),
    title: z.string().nullable().openapi({ description: "The source's title" }),
    heading: z.string().nullable().openapi({ description: 'The heading the passage sits under' }),
    ordinal: z.number().int(),
    text: z.string(),
    start_offset: z.number().int().openapi({ description: "Where the passage starts in the source's text (UTF-16 code units)" }),
    end_offset: z.number().int(),
  })
  .openapi('KnowledgeChunk');

export const SourceDetailSchema = SourceSchema.extend({ content: z.string(), chunks: z.array(ChunkSchema) }).openapi(
  'KnowledgeSourceDetail',
);

export const SearchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .openapi({ param: { name: 'q', in: 'query' }, description: 'What to look for, in your own words' }),
  top_k: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(5)
    .openapi({ param: { name: 'top_k', in: 'query' } }),
  mode: z
    .enum(SEARCH_MODES)
    .default('hybrid')
    .openapi({
      param: { name: 'mode', in: 'query' },
      description: 'hybrid: semantic and keyword lists fused by rank; semantic: vectors only; keyword: FTS5 BM25 only',
    }),
  min_score: z.coerce
    .number()
    .min(-1)
    .max(1)
    .optional()
    .openapi({
      param: { name: 'min_score', in: 'query' },
      description: 'Leave out passages whose cosine similarity to the query is below this',
    }),
});

export const SearchResultSchema = z
  .object({
    knowledge_base_id: z.number().int(),
    query: z.string(),
    mode: z.enum(SEARCH_MODES),
    embedding: z.string(),
    items: z.array(
      z.object({
        chunk_id: z.number().int(),
        source_id: z.number().int(),
        document_id: z.number().int().nullable(),
        title: z.string().nullable(),
        heading: z.string().nullable(),
        text: z.string(),
        start_offset: z.number().int(),
        end_offset: z.number().int(),
        score: z.number().openapi({ description: 'Cosine similarity to the query under the base’s embedding' }),
        semantic_rank: z.number().int().nullable(),
        keyword_rank: z.number().int().nullable(),
      }),
    ),
  })
  .openapi('KnowledgeSearchResult');
