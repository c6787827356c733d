import { createRoute, z } from '@hono/zod-openapi';
import { getDocument, provenance } from '../documents';
import { ANY_ROLE } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonResponse, withAccess } from '../lib/openapi';
import { chunksWithSources } from './queries';
import { ChunkSchema } from './schemas';
import { publicChunk } from './views';

/*
 * A generated document's citations with the chunks they point at, served beside the documents
 * (mounted at /api/v3/documents). It lives here because it reads knowledge chunks, and knowledge
 * already depends on documents (a document can be a source): the other way round would be a cycle.
 */

const read = { roles: ANY_ROLE, scope: 'documents:read' } as const;

const CitationsSchema = z
  .object({
    document_id: z.number().int(),
    items: z.array(
      z.object({
        paragraph: z.number().int().openapi({ description: 'Paragraph of the generated text, from 0 (blank-line separated)' }),
        marker: z.number().int().openapi({ description: 'The [n] the text cites it by' }),
        chunk_id: z.number().int(),
        source_id: z.number().int(),
        chunk: ChunkSchema.nullable().openapi({ description: 'The cited passage; null when its source was deleted since' }),
      }),
    ),
  })
  .openapi('DocumentCitations');

export const documentCitationRoutes = createRouter().openapi(
  createRoute(
    withAccess(read, {
      method: 'get',
      path: '/{id}/citations',
      operationId: 'documentCitations',
      tags: ['documents'],
      summary: "A generated document's citations: which paragraph cites which knowledge chunk, with the chunk",
      request: { params: IdParam },
      responses: {
        200: jsonResponse(CitationsSchema, 'The citations, in paragraph order'),
        ...errorResponses('validation_error', 'not_found'),
      },
    }),
  ),
  async (c) => {
    const ownerId = c.var.principal.userId;
    const doc = await getDocument(c.var.db, ownerId, c.req.valid('param').id);
    if (!doc) throw new ApiError('not_found', 'Document not found');
    const { citations } = provenance(doc);
    const rows = await chunksWithSources(c.var.db, ownerId, [...new Set(citations.map((x) => x.chunk_id))]);
    const chunks = new Map(rows.map((r) => [r.chunk.id, publicChunk(r.chunk, r)]));
    return c.json(
      {
        document_id: doc.id,
        items: citations.map((x) => ({
          paragraph: x.paragraph,
          marker: x.marker,
          chunk_id: x.chunk_id,
          source_id: x.source_id,
          chunk: chunks.get(x.chunk_id) ?? null,
        })),
      },
      200,
    );
  },
);
