import { z } from '@hono/zod-openapi';
import { jsonObject } from '../lib/json';
import { PROVIDERS } from '../ai';
import { anyOfRequired, IdParam } from '../lib/openapi';
import { PageQuery } from '../lib/pagination';
import { MAX_CONTENT_CHARS } from './uploads';

export const CitationSchema = z
  .object({
    paragraph: z.number().int(),
    marker: z.number().int().openapi({ description: 'The [n] the text cites it by' }),
    chunk_id: z.number().int(),
    source_id: z.number().int(),
    document_id: z.number().int().nullable().openapi({ description: 'The document the source was made from, if any' }),
  })
  .openapi('Citation');

export const ReviewSchema = z
  .object({
    node_id: z.string().openapi({ description: 'The approval node' }),
    decision: z.enum(['approve', 'reject', 'edit', 'request_changes']),
    comment: z.string().nullable(),
    actor_user_id: z.number().int().nullable().openapi({ description: 'The reviewer; null when the timeout decided' }),
    timed_out: z.boolean(),
    at: z.string(),
    document_version: z.number().int().nullable().openapi({ description: "An edit: the version holding the reviewer's text" }),
  })
  .openapi('DocumentReview');

export const ProvenanceSchema = z
  .object({
    origin: z.enum(['run', 'continuation', 'upload', 'user']).openapi({
      description:
        'run: a node of a run wrote it; continuation: generated from another document; upload: converted from a file; user: typed by a person',
    }),
    provider: z.string().nullable().openapi({ description: 'The AI provider that generated the text; null when none did' }),
    model: z.string().nullable(),
    language_model: z.boolean().openapi({
      description:
        'Whether a language model wrote the text. False for the `local` provider (deterministic text algorithms) and for documents no model wrote',
    }),
    edited: z.boolean().openapi({ description: 'Whether a person has edited it since (it has versions after the first)' }),
    citations: z.array(CitationSchema).openapi({
      description:
        'A generated document that was given knowledge passages to cite: which paragraph (from 0, of the generated text) cites which chunk. GET /documents/{id}/citations shows the chunks',
    }),
    reviews: z.array(ReviewSchema).openapi({ description: 'The review decisions taken on it at approval nodes, in order' }),
  })
  .openapi('DocumentProvenance');

export const DocumentSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    content: z.string(),
    kind: z.enum(['node', 'continuation', 'manual']),
    version: z.number().int(),
    workflow_id: z.number().int().nullable(),
    run_id: z.number().int().nullable(),
    node_id: z.string().nullable(),
    parent_id: z.number().int().nullable().openapi({ description: 'The document this one was generated from' }),
    metadata: z.record(z.string(), z.unknown()),
    provenance: ProvenanceSchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Document');
export const DocumentSummary = DocumentSchema.omit({ content: true }).extend({ excerpt: z.string() }).openapi('DocumentSummary');
export const VersionSchema = z
  .object({
    version: z.number().int(),
    title: z.string(),
    content: z.string(),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi('DocumentVersion');

export const ListQuery = PageQuery.extend({
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({
      param: { name: 'q', in: 'query' },
      description:
        'Full-text search over title and content: every word must occur, matched as a whole word after English stemming; a word ending in `*` is a prefix (`sol*`)',
    }),
  run_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'run_id', in: 'query' } }),
  workflow_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'workflow_id', in: 'query' } }),
  parent_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'parent_id', in: 'query' }, description: 'Children of a document' }),
});

export const ContinueBody = z
  .strictObject({
    prompt: z
      .string()
      .min(1)
      .max(20_000)
      .optional()
      .openapi({ description: 'Instruction for the next document; written automatically when omitted' }),
    provider: z.enum(PROVIDERS).optional(),
    model: z.string().min(1).max(100).optional(),
    max_tokens: z.number().int().min(1).max(8192).optional(),
  })
  .openapi('ContinueRequest');

export const EditBody = z
  .strictObject({ title: z.string().min(1).max(300).optional(), content: z.string().min(1).max(500_000).optional() })
  .refine((b) => b.title !== undefined || b.content !== undefined, { message: 'title or content is required' })
  .openapi('DocumentEditRequest', anyOfRequired('title', 'content'));

export const VersionParams = z.object({
  id: IdParam.shape.id,
  version: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'version', in: 'path' } }),
});

export const CreateDocumentBody = z
  .strictObject({
    title: z.string().trim().min(1).max(300),
    content: z.string().min(1).max(MAX_CONTENT_CHARS).openapi({ description: 'Markdown' }),
    metadata: jsonObject({ maxBytes: 16_384 })
      .optional()
      .openapi({ description: 'Your own fields, stored as given (at most 16 KiB of JSON)' }),
  })
  .openapi('DocumentCreateRequest');

/** A file field in a multipart form: a File once parsed (Hono's parseBody), binary in the OpenAPI document. */
export const FileField = z
  .custom<File>((v) => v instanceof File, { message: 'expected a file' })
  .openapi({ type: 'string', format: 'binary' });

export const DocumentUploadForm = z
  .object({
    file: FileField.openapi({ description: 'PDF, DOCX, HTML, Markdown or plain text (UTF-8), at most UPLOAD_MAX_BYTES' }),
    title: z.string().trim().min(1).max(300).optional().openapi({ description: "Defaults to the file's own title, first heading or name" }),
  })
  .openapi('DocumentUploadForm');

const versionQuery = (name: string, description: string) =>
  z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name, in: 'query' }, description });

export const DiffQuery = z.object({
  from: versionQuery('from', 'The older version (default: the one before `to`)'),
  to: versionQuery('to', 'The newer version (default: the current one)'),
});

export const DiffSchema = z
  .object({
    document_id: z.number().int(),
    from: z.object({ version: z.number().int(), title: z.string() }),
    to: z.object({ version: z.number().int(), title: z.string() }),
    title_changed: z.boolean(),
    stats: z.object({ hunks: z.number().int(), inserted_words: z.number().int(), deleted_words: z.number().int() }),
    hunks: z
      .array(
        z.object({
          from_offset: z.number().int(),
          from_length: z.number().int(),
          to_offset: z.number().int(),
          to_length: z.number().int(),
          deleted: z.string(),
          inserted: z.string(),
        }),
      )
      .openapi({
        description:
          'Each place the versions differ: `deleted` at `from_offset` of the older text, `inserted` at `to_offset` of the newer (UTF-16 code units). Applying all hunks to the older text gives the newer',
      }),
    changes: z
      .array(z.object({ type: z.enum(['equal', 'insert', 'delete']), text: z.string() }))
      .openapi({ description: 'The whole text as runs of unchanged, inserted and deleted words and spaces, in order' }),
    html: z
      .string()
      .openapi({ description: 'The changes as an HTML fragment with <ins> and <del>, text escaped; show it with white-space: pre-wrap' }),
  })
  .openapi('DocumentDiff');
