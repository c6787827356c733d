import { createRoute, z } from '@hono/zod-openapi';
import { parse, stringify } from 'yaml';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { requestMeta } from '../lib/context';
import { ApiError } from '../lib/errors';
import { publishEvents } from '../lib/events';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { type Bundle, BundleSchema, bundleJsonSchema } from './bundle';
import { exportBundle } from './export';
import { applyImport, planImport, resolvePlan, validateBundle } from './import';
import { ExportQuery, ImportBody, ImportResultSchema } from './schemas';

const read = { roles: ANY_ROLE, scope: 'workflows:read' } as const;
const write = { roles: WRITERS, scope: 'workflows:write' } as const;
const tags = ['workflows'];
export const BUNDLE_SCHEMA_PATH = '/api/v3/schemas/workflow-bundle/v1';

/** YAML text to a checked bundle. The `yaml` library refuses more than 100 aliases, so a small text cannot expand without bound. */
function fromYaml(text: string): Bundle {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false });
  } catch (err) {
    throw new ApiError('validation_error', 'The YAML could not be read', {
      details: [{ path: ['yaml'], code: 'invalid_yaml', message: err instanceof Error ? err.message.slice(0, 300) : 'unreadable' }],
    });
  }
  const r = BundleSchema.safeParse(doc);
  if (!r.success)
    throw new ApiError('validation_error', 'Request validation failed', {
      details: r.error.issues.map((i) => ({ path: ['yaml', ...i.path], code: i.code, message: i.message })),
    });
  return r.data;
}

/** Export and import, mounted under /api/v3/workflows before its `/{id}` routes (`/export` is not an id). */
export const workflowBundleRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/export',
        operationId: 'exportWorkflows',
        tags,
        summary: 'Export workflows as a portable bundle (JSON or YAML), with the workflows their subchains start',
        request: { query: ExportQuery },
        responses: {
          200: {
            description: `A bundle; its JSON Schema is served at ${BUNDLE_SCHEMA_PATH}`,
            content: { 'application/json': { schema: BundleSchema }, 'application/yaml': { schema: z.string() } },
          },
          ...errorResponses('validation_error', 'bad_request', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const bundle = await exportBundle(c.var.db, c.var.principal.userId, {
        ids: q.ids?.split(',').map(Number),
        tag: q.tag,
        versions: q.versions === 'true',
      });
      const withSchema = { $schema: new URL(BUNDLE_SCHEMA_PATH, c.req.url).toString(), ...bundle };
      if (q.format === 'yaml')
        return c.body(stringify(withSchema, { lineWidth: 0 }), 200, { 'content-type': 'application/yaml; charset=utf-8' });
      return c.json(withSchema, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/import',
        operationId: 'importWorkflows',
        tags,
        summary: 'Import a bundle: everything is validated before anything is written; re-importing the same bundle changes nothing',
        request: { body: jsonBody(ImportBody) },
        responses: {
          200: jsonResponse(ImportResultSchema, 'What was (or, in a dry run, would be) done with each workflow'),
          ...errorResponses('validation_error', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const ownerId = c.var.principal.userId;
      const bundle = body.bundle ?? fromYaml(body.yaml!);
      const items = validateBundle(bundle);
      const planned = await planImport(c.var.db, ownerId, items, body.policy);
      let plan = planned.plan;
      if (!body.dry_run) {
        await applyImport(c.var.db, requestMeta(c), ownerId, planned);
        plan = await resolvePlan(c.var.db, ownerId, plan);
        c.executionCtx.waitUntil(publishEvents(c.env));
      }
      const counts: Record<string, number> = { created: 0, renamed: 0, new_version: 0, skipped: 0, unchanged: 0 };
      for (const p of plan) counts[p.action] = (counts[p.action] ?? 0) + 1;
      return c.json({ dry_run: body.dry_run, policy: body.policy, items: plan, counts }, 200);
    },
  );

/** The bundle format's JSON Schema, public (editors and CI fetch it without credentials), one URL per format version. */
export const bundleSchemaRoutes = createRouter().openapi(
  createRoute({
    method: 'get',
    path: '/workflow-bundle/{version}',
    operationId: 'workflowBundleSchema',
    tags,
    summary: 'The JSON Schema of the workflow bundle format',
    security: [],
    request: {
      params: z.object({ version: z.enum(['v1']).openapi({ param: { name: 'version', in: 'path' }, example: 'v1' }) }),
    },
    responses: {
      200: jsonResponse(z.record(z.string(), z.unknown()), 'A JSON Schema (draft 2020-12)'),
      ...errorResponses('validation_error'),
    },
  }),
  async (c) => {
    const schema = bundleJsonSchema(new URL(c.req.path, c.req.url).toString());
    return c.json(schema, 200, { 'cache-control': 'public, max-age=3600' });
  },
);
