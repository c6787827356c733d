import { createRoute } from '@hono/zod-openapi';
import { WRITERS } from '../lib/access';
import { requestMeta } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { launchRun } from '../runs';
import { applyBulk, type BulkResult, validateBulk } from './bulk';
import { workflowForRun } from './queries';
import { BulkBody, BulkResultSchema } from './schemas';

const write = { roles: WRITERS, scope: 'workflows:write' } as const;

/**
 * `POST /api/v3/workflows/bulk`. Validation is all-or-nothing (validateBulk); the changes are one
 * D1 batch. Runs are the exception the platform forces: each run is its own object, so starts
 * cannot share a transaction; each goes through the runs module's launchRun (its own audit row,
 * its own idempotency), and one that fails to start is reported on its item.
 */
export const workflowBulkRoutes = createRouter().openapi(
  createRoute(
    withAccess(write, {
      method: 'post',
      path: '/bulk',
      operationId: 'bulkWorkflows',
      tags: ['workflows'],
      summary: 'Delete, archive, unarchive, tag, untag or run up to 100 workflows: every item is checked before any is changed',
      request: { body: jsonBody(BulkBody) },
      responses: { 200: jsonResponse(BulkResultSchema, 'One result per item, in request order'), ...errorResponses('validation_error') },
    }),
  ),
  async (c) => {
    const body = c.req.valid('json');
    const db = c.var.db;
    const ownerId = c.var.principal.userId;
    const meta = requestMeta(c);
    await validateBulk(db, ownerId, body);
    let results: BulkResult[];
    if (body.action !== 'run') results = await applyBulk(db, meta, ownerId, body);
    else {
      const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
      results = [];
      for (const id of body.ids) {
        try {
          const workflow = await workflowForRun({ env: c.env, waitUntil }, db, ownerId, id);
          if (!workflow) throw new ApiError('not_found', `workflow ${id} not found`);
          const { runId, created } = await launchRun(c.env, db, meta, {
            workflow,
            ownerId,
            input: body.input ?? {},
            idempotencyKey: body.idempotency_key,
            waitUntil,
          });
          results.push({ id, ok: true, changed: created, run_id: runId });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          results.push({ id, ok: false, changed: false, error: { code: err.code, message: err.message } });
        }
      }
    }
    const succeeded = results.filter((r) => r.ok).length;
    return c.json({ action: body.action, results, succeeded, failed: results.length - succeeded }, 200);
  },
);
