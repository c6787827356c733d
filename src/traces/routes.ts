import { createRoute } from '@hono/zod-openapi';
import { ANY_ROLE } from '../lib/access';
import { createRouter, errorResponses, jsonResponse, withAccess } from '../lib/openapi';
import { ownedRun, RunParams } from '../runs';
import { loadRunTrace } from './load';
import { RunTraceSchema } from './run-trace';

// A trace shows what the run already shows (GET …/runs/{runId}), drawn as spans: the same access.
const read = { roles: ANY_ROLE, scope: 'workflows:read' } as const;

/** `GET /api/v3/workflows/{id}/runs/{runId}/trace`. */
export const traceRoutes = createRouter().openapi(
  createRoute(
    withAccess(read, {
      method: 'get',
      path: '/{id}/runs/{runId}/trace',
      operationId: 'getRunTrace',
      tags: ['runs', 'traces'],
      summary: "A run's trace: a span for the run, each node, each attempt and each provider call, with parent links",
      description:
        'Built from the run record; the span ids are the ones sent to the providers in `traceparent` during the run. Open spans (a run or node still going) have `end: null`.',
      request: { params: RunParams },
      responses: { 200: jsonResponse(RunTraceSchema, 'The trace'), ...errorResponses('validation_error', 'not_found') },
    }),
  ),
  async (c) => {
    const p = c.req.valid('param');
    await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
    return c.json(await loadRunTrace(c.env, c.var.db, p.runId), 200);
  },
);
