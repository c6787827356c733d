import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../lib/context';
import { createRouter } from '../lib/openapi';
import { VERSION } from '../lib/config';
import { cached } from '../cache';

/*
 * Swagger UI and ReDoc are single HTML pages that load their JavaScript from the jsDelivr CDN in
 * the reader's browser, so the Worker bundle stays small. Their CSP allows exactly that origin.
 */
const CDN = 'https://cdn.jsdelivr.net';
const DOCS_CSP = `default-src 'none'; script-src 'unsafe-inline' ${CDN}; style-src 'unsafe-inline' ${CDN}; img-src 'self' data: ${CDN}; font-src ${CDN}; connect-src 'self'; worker-src blob:; frame-ancestors 'none'`;

const swaggerHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document Workflow Chain API — Swagger UI</title>
<link rel="stylesheet" href="${CDN}/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="${CDN}/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });</script>
</body></html>`;

const redocHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Document Workflow Chain API — ReDoc</title></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="${CDN}/npm/redoc@2/bundles/redoc.standalone.js"></script>
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
      const build = async () => app.getOpenAPI31Document(OPENAPI_CONFIG) as unknown as Record<string, unknown>;
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
  app.route('/openapi.json', spec).route('/docs', swagger).route('/redoc', redoc);
}
