import { createRoute, z } from '@hono/zod-openapi';
import { VERSION } from '../lib/config';
import { createRouter, errorResponses, jsonResponse } from '../lib/openapi';
import { FAVICON_SVG } from './favicon';

/*
 * The few root paths a browser or an uptime checker asks for without reading any documentation:
 * the icon and a status page. Both are public and touch no binding, like liveness. The 403 they
 * document is the global IP deny rule (src/security/middleware.ts), which applies to every path.
 */

const Status = z
  .object({
    status: z.literal('ok'),
    service: z.string(),
    version: z.string(),
    time: z.string(),
    links: z.object({ liveness: z.string(), readiness: z.string(), docs: z.string(), openapi: z.string() }),
  })
  .openapi('Status');

const icon = (path: '/favicon.svg' | '/favicon.ico', operationId: string) =>
  createRoute({
    method: 'get',
    path,
    operationId,
    tags: ['console'],
    security: [],
    summary: 'The service icon (SVG), for browsers; public and cacheable for a day',
    responses: {
      200: { description: 'The icon', content: { 'image/svg+xml': { schema: z.string() } } },
      ...errorResponses('forbidden'),
    },
  });

// The icon changes only with a deploy; a day of caching, shared caches included.
const serveIcon = { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' };

export const siteRoutes = createRouter()
  .openapi(icon('/favicon.svg', 'faviconSvg'), (c) => c.body(FAVICON_SVG, 200, serveIcon))
  .openapi(icon('/favicon.ico', 'faviconIco'), (c) => c.body(FAVICON_SVG, 200, serveIcon))
  .openapi(
    createRoute({
      method: 'get',
      path: '/status',
      operationId: 'status',
      tags: ['health'],
      security: [],
      summary: 'Public status: the service is up, its version, and where to look further; touches no binding',
      description:
        'The same promise as `GET /health` (liveness), with the links an operator follows next. Nothing about the deployment or its data: no counts, no configuration. Readiness (every binding checked) is `GET /api/v3/health`, for administrators.',
      responses: { 200: jsonResponse(Status, 'Up'), ...errorResponses('forbidden') },
    }),
    (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json(
        {
          status: 'ok' as const,
          service: 'Document Workflow Chain',
          version: VERSION,
          time: new Date().toISOString(),
          links: { liveness: '/health', readiness: '/api/v3/health', docs: '/docs', openapi: '/openapi.json' },
        },
        200,
      );
    },
  );
