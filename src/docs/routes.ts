import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses } from '../lib/openapi';
import { VERSION } from '../lib/config';
import { cached } from '../cache';
import { completeDocument } from './complete';

/*
 * Swagger UI and ReDoc are single HTML pages whose scripts and stylesheet come from this origin:
 * scripts/build-docs-assets.mjs copies them from npm packages pinned to exact versions
 * (swagger-ui-dist, redoc) into the static assets, and GET /docs/assets/{file} serves them. No CDN (nothing loads
 * a floating major version, and the pages work offline), no inline script, and the CSP allows
 * this origin only. Swagger UI does not persist an authorization: a token typed into "Authorize"
 * is gone with the tab, never left in localStorage.
 */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; frame-ancestors 'none'";

const DOCS_FILES = {
  'swagger-ui-bundle.js': 'text/javascript',
  'swagger-ui.css': 'text/css',
  'swagger-init.js': 'text/javascript',
  'redoc.standalone.js': 'text/javascript',
} as const;
type DocsFile = keyof typeof DOCS_FILES;
const isDocsFile = (name: string): name is DocsFile => Object.hasOwn(DOCS_FILES, name);

const swaggerHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document Workflow Chain API — Swagger UI</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-init.js"></script>
</body></html>`;

const redocHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document Workflow Chain API — ReDoc</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body></html>`;

export const OPENAPI_CONFIG = {
  openapi: '3.1.0',
  info: {
    title: 'Document Workflow Chain API',
    version: VERSION,
    description:
      'Durable AI document workflows on Cloudflare Workers. Every error has the shape `{"error":{"code","message","details"?,"requestId"}}`.',
    license: { name: 'MIT', identifier: 'MIT' },
  },
  servers: [{ url: '/', description: 'The server that serves this document' }],
  tags: [
    { name: 'health', description: 'Liveness and readiness' },
    { name: 'auth', description: 'Registration, sign-in, tokens' },
    { name: 'api keys', description: 'Long-lived scoped credentials' },
    { name: 'users', description: 'User administration' },
    { name: 'workflows', description: 'Workflow definitions' },
    { name: 'runs', description: 'Durable runs of workflows: control, events, streams, analytics' },
    { name: 'documents', description: 'Generated documents, their versions, search and continuation' },
    { name: 'realtime', description: 'WebSocket rooms and their counters' },
    {
      name: 'background tasks',
      description: 'Tasks on Cloudflare Queues: priorities, per-user fairness, retries with backoff, dead letters',
    },
    { name: 'schedules', description: 'Cron, interval, daily, weekly and monthly schedules fired by Durable Object alarms' },
    { name: 'ai', description: 'The AI layer: generation with provider fallback, text analysis' },
    { name: 'cache', description: 'The cache: hit and miss statistics, invalidation' },
    { name: 'docs', description: 'This documentation' },
    { name: 'console', description: 'The web console: an HTML page and its scripts, using this API' },
  ],
};

const html = (operationId: string, summary: string) =>
  createRoute({
    method: 'get',
    path: '/',
    operationId,
    tags: ['docs'],
    security: [],
    summary,
    responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
  });

/** The app's OpenAPI document: generated from the routes' schemas, then completed with the statuses and headers the shared middleware adds. */
export const openApiDocument = (app: OpenAPIHono<AppEnv>) =>
  completeDocument(app.getOpenAPI31Document(OPENAPI_CONFIG) as unknown as Record<string, unknown>);

/** Registers /openapi.json, /docs and /redoc on the finished app (the document describes it). */
export function mountDocs(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT or API key',
    description: 'An access token from /api/v3/auth/login, or an API key (dwc_...)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyHeader', { type: 'apiKey', in: 'header', name: 'X-API-Key' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'healthSecret', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Health-Secret',
    description: 'GET /api/v3/health only: the HEALTH_CHECK_SECRET secret, for monitors',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'wsTicket', {
    type: 'apiKey',
    in: 'query',
    name: 'ticket',
    description: 'WebSocket upgrades only: a single-use ticket from POST /api/v3/ws/ticket',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'wsToken', {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'WebSocket upgrades only: an access token (or the subprotocol `bearer.<token>`); never an API key',
  });

  const spec = createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/',
      operationId: 'openapiDocument',
      tags: ['docs'],
      security: [],
      summary: 'This OpenAPI 3.1 document',
      responses: {
        200: { description: 'OpenAPI document', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
      },
    }),
    // Built from every route's schemas, which takes a while: kept per isolate and per data centre
    // (namespace `public`, src/cache), keyed by the release, as it only changes with a deploy.
    async (c) => {
      const build = async () => openApiDocument(app);
      const scope = { env: c.env, waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p) };
      return c.json(await cached(scope, 'public', `openapi:${VERSION}`, build, { schema: z.record(z.string(), z.unknown()) }), 200);
    },
  );
  const swagger = createRouter().openapi(html('swaggerUi', 'Swagger UI'), (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    return c.html(swaggerHtml, 200);
  });
  const redoc = createRouter().openapi(html('redoc', 'ReDoc'), (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    return c.html(redocHtml, 200);
  });
  const assets = createRouter().openapi(
    createRoute({
      method: 'get',
      path: '/{file}',
      operationId: 'docsAsset',
      tags: ['docs'],
      security: [],
      summary: "The documentation pages' scripts and stylesheet (Swagger UI, ReDoc), served from this origin",
      request: {
        params: z.object({
          // A string, not an enum: a file that is not one of these is not found (404), not a bad request.
          file: z
            .string()
            .max(100)
            .openapi({ param: { name: 'file', in: 'path' }, description: `One of ${Object.keys(DOCS_FILES).join(', ')}` }),
        }),
      },
      responses: {
        200: {
          description: 'A script or stylesheet',
          content: { 'text/javascript': { schema: z.string() }, 'text/css': { schema: z.string() } },
        },
        ...errorResponses('not_found'),
      },
    }),
    async (c) => {
      const file = c.req.valid('param').file;
      if (!isDocsFile(file)) throw new ApiError('not_found', `No documentation file named ${file}`);
      const res = await c.env.ASSETS.fetch(new URL(`/docs/${file}`, c.req.url));
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`The docs file ${file} is not in the static assets (status ${res.status}); run npm run build:console`);
      }
      c.header('Content-Security-Policy', DOCS_CSP);
      // The files change only with a deploy (their versions are pinned): an hour, then revalidated.
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(await res.arrayBuffer(), 200, { 'Content-Type': `${DOCS_FILES[file]}; charset=utf-8` });
    },
  );
  app.route('/openapi.json', spec).route('/docs/assets', assets).route('/docs', swagger).route('/redoc', redoc);
}
