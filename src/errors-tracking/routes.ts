import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonResponse, withAccess } from '../lib/openapi';
import { PageQuery, pageOf } from '../lib/pagination';
import { getErrorGroup, listErrorGroups } from './store';

// Samples hold server-side messages and stacks: administrators only.
const admin = { roles: ADMINS, scope: 'security:read' } as const;
const tags = ['admin'];

const ErrorGroup = z
  .object({
    id: z.number().int(),
    fingerprint: z.string(),
    name: z.string().openapi({ example: 'TypeError' }),
    message: z.string().openapi({ description: 'The message with its variable parts masked (<n>, <str>, <url>, <uuid>, <hex>)' }),
    route: z.string().openapi({ example: 'GET /api/v3/workflows/:id' }),
    count: z.number().int(),
    first_seen: z.string(),
    last_seen: z.string(),
    sample: z
      .object({
        request_id: z.string().openapi({ description: 'The latest occurrence: find its log lines by this id' }),
        message: z.string().openapi({ description: "The first occurrence's message, unmasked" }),
        stack: z.string().nullable(),
      })
      .openapi({ description: 'Never sent to the client that failed; visible here to administrators' }),
  })
  .openapi('ErrorGroup');

const ErrorsQuery = PageQuery.extend({
  since: z
    .string()
    .max(40)
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'since', in: 'query' }, description: 'Only groups seen at or after this time (ISO 8601)' }),
});

/** `/api/v3/admin/errors`: unexpected errors grouped by fingerprint. */
export const errorTrackingRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'get',
        path: '/errors',
        operationId: 'listErrorGroups',
        tags,
        summary: 'Unexpected errors (answered with a generic 500), grouped by fingerprint: count, first and last seen, a sample',
        request: { query: ErrorsQuery },
        responses: {
          200: jsonResponse(pageOf(ErrorGroup, 'ErrorGroupPage'), 'Groups, most recently seen first'),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(
        await listErrorGroups(c.var.db, { limit: q.limit, cursor: q.cursor, since: q.since ? Date.parse(q.since) : undefined }),
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'get',
        path: '/errors/{id}',
        operationId: 'getErrorGroup',
        tags,
        summary: 'One error group',
        request: { params: IdParam },
        responses: { 200: jsonResponse(ErrorGroup, 'The group'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const group = await getErrorGroup(c.var.db, c.req.valid('param').id);
      if (!group) throw new ApiError('not_found', 'Error group not found');
      return c.json(group, 200);
    },
  );
