import { z } from '@hono/zod-openapi';
import { EXPORT_FORMATS } from '../db/schema';
import { IdParam } from '../lib/openapi';

export const FormatQuery = z.object({
  format: z.enum(EXPORT_FORMATS).openapi({
    param: { name: 'format', in: 'query' },
    description: 'md: the Markdown as stored; html: rendered and sanitised; pdf; docx',
  }),
  delivery: z
    .enum(['auto', 'background'])
    .default('auto')
    .openapi({
      param: { name: 'delivery', in: 'query' },
      description:
        'auto: the file in this response unless its Markdown exceeds EXPORT_INLINE_MAX_BYTES, then 202 and a background export; background: always 202',
    }),
});

export const RunExportQuery = FormatQuery.extend({
  documents: z
    .enum(['final', 'all'])
    .default('final')
    .openapi({
      param: { name: 'documents', in: 'query' },
      description: 'final: the last document the run wrote; all: every document of the run, in order',
    }),
});

export const ExportJobSchema = z
  .object({
    id: z.number().int(),
    scope: z.enum(['document', 'run_final', 'run_all']),
    format: z.enum(EXPORT_FORMATS),
    document_id: z.number().int().nullable(),
    workflow_id: z.number().int().nullable(),
    run_id: z.number().int().nullable(),
    status: z.enum(['queued', 'ready', 'failed']),
    task_id: z.number().int().nullable().openapi({ description: 'The document_export background task building it' }),
    title: z.string(),
    filename: z.string(),
    bytes: z.number().int().nullable(),
    error: z.string().nullable(),
    download_url: z.string().nullable().openapi({ description: 'Once ready: the file, for the same credentials as this request' }),
    signed_url: z
      .string()
      .nullable()
      .openapi({ description: 'Once ready: a link that works without credentials until signed_url_expires_at (15 minutes)' }),
    signed_url_expires_at: z.string().nullable(),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi('ExportJob');

export const FileLinkQuery = z.object({
  expires: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'expires', in: 'query' }, description: 'Epoch seconds, as signed' }),
  signature: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'signature', in: 'query' } }),
});

export { IdParam };

/** The file itself, in whichever format was asked for. */
export const fileContent = {
  'text/markdown': { schema: z.string() },
  'text/html': { schema: z.string() },
  'application/pdf': { schema: z.string().openapi({ format: 'binary' }) },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': { schema: z.string().openapi({ format: 'binary' }) },
};
