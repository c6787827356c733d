import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses } from '../lib/openapi';
import { CONSOLE_FILES, isConsoleFile, readConsoleFile } from './assets';

/*
 * The console is a page of plain ES modules talking to the public API with the signed-in user's
 * bearer token, exactly as any other client would: it has no privileged route of its own. Its
 * CSP allows scripts, styles and fetches from this origin only, so nothing inline runs, no third
 * party is contacted, and injected markup (if any slipped through) could not execute.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const tags = ['console'];
const AssetParam = z.object({
  asset: z
    .string()
    .max(64)
    .openapi({ param: { name: 'asset', in: 'path' }, example: 'app.js', description: `One of: ${Object.keys(CONSOLE_FILES).join(', ')}` }),
});

export const consoleRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'get',
      path: '/',
      operationId: 'console',
      tags,
      security: [],
      summary: 'The web console (HTML shell; signs in against /api/v3/auth)',
      responses: {
        200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } },
      },
    }),
    async (c) => {
      const html = await readConsoleFile(c.env.ASSETS, c.req.url, 'index.html');
      c.header('Content-Security-Policy', CONSOLE_CSP);
      c.header('Cache-Control', 'no-cache');
      return c.html(html, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'get',
      path: '/{asset}',
      operationId: 'consoleAsset',
      tags,
      security: [],
      summary: "The console's scripts (ES modules) and stylesheet",
      request: { params: AssetParam },
      responses: {
        200: {
          description: 'A script or the stylesheet',
          content: { 'text/javascript': { schema: z.string() }, 'text/css': { schema: z.string() } },
        },
        ...errorResponses('not_found'),
      },
    }),
    async (c) => {
      const name = c.req.valid('param').asset;
      if (!isConsoleFile(name)) throw new ApiError('not_found', `No console asset ${name}`);
      const body = await readConsoleFile(c.env.ASSETS, c.req.url, name);
      c.header('Content-Security-Policy', CONSOLE_CSP);
      // Revalidated on every load: the files are small and change with each deploy.
      c.header('Cache-Control', 'no-cache');
      return c.body(body, 200, { 'Content-Type': `${CONSOLE_FILES[name]}; charset=utf-8` });
    },
  );
