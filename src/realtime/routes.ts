import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ANY_ROLE } from '../lib/access';
import type { AppEnv } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonResponse } from '../lib/openapi';
import { userChannel } from './protocol';
import { hubStub, statsStub } from './rpc';
import { resolvePrincipal } from '../auth';

/** The subprotocol the server speaks; a token can ride along as `bearer.<token>`. */
export const PROTOCOL = 'dwc.v1';

const ConnectQuery = z.object({
  token: z
    .string()
    .max(2048)
    .optional()
    .openapi({
      param: { name: 'token', in: 'query' },
      description: 'Access token or API key (or send it as the subprotocol `bearer.<token>`)',
    }),
  connection_id: z
    .string()
    .max(64)
    .optional()
    .openapi({ param: { name: 'connection_id', in: 'query' }, description: 'A label of your choosing, echoed in the welcome frame' }),
  user_id: z
    .string()
    .max(64)
    .optional()
    .openapi({
      param: { name: 'user_id', in: 'query' },
      description: 'Accepted for compatibility with the original API and ignored: identity comes from the token',
    }),
});

const connectRoute = (path: string, operationId: string) =>
  createRoute({
    method: 'get',
    path,
    operationId,
    tags: ['realtime'],
    summary: 'Open a WebSocket (JSON frames: ping, join_workflow, leave_workflow, join_room, leave_room, publish)',
    description:
      'Authenticated by an access token or API key in `?token=` or in `Sec-WebSocket-Protocol: dwc.v1, bearer.<token>`. An unauthenticated upgrade is answered 401 before upgrading. See README "Realtime" for the frames.',
    security: [{ wsToken: [] }],
    'x-access': { roles: [...ANY_ROLE], scope: 'workflows:read' },
    request: { query: ConnectQuery },
    responses: {
      101: { description: 'Switching Protocols: the WebSocket is open' },
      ...errorResponses('bad_request', 'unauthorized', 'forbidden', 'validation_error'),
    },
  });

/**
 * Authenticates the upgrade here, in the Worker, then hands the request to the user's hub
 * object with the verified identity in headers only this Worker can set (the hub is not
 * reachable from outside). Nothing the client claims about itself is forwarded as identity.
 */
async function connect(c: Context<AppEnv>, query: z.infer<typeof ConnectQuery>): Promise<Response> {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('bad_request', 'Expected a WebSocket upgrade request');
  const offered = (c.req.header('sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const token = query.token ?? offered.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length);
  const principal = await resolvePrincipal(c.env, c.var.db, token ? `Bearer ${token}` : undefined, undefined, (p) =>
    c.executionCtx.waitUntil(p),
  );
  if (principal.kind === 'api_key' && !principal.scopes.includes('workflows:read')) {
    throw new ApiError('forbidden', 'This API key lacks the scope workflows:read');
  }
  const headers = new Headers({ upgrade: 'websocket', 'x-dwc-user-id': String(principal.userId) });
  if (query.connection_id) headers.set('x-dwc-connection-label', query.connection_id);
  if (offered.length) headers.set('x-dwc-protocol', PROTOCOL);
  return hubStub(c.env, userChannel(principal.userId)).fetch(new Request(c.req.url, { headers }));
}

const Stats = z
  .object({
    connections: z.number().int(),
    rooms: z.number().int().openapi({ description: 'Rooms with at least one subscriber' }),
    messages_in: z.number().int(),
    messages_out: z.number().int(),
  })
  .openapi('RealtimeStats');

export const realtimeRoutes = createRouter()
  .openapi(connectRoute('/', 'connectWebSocket'), async (c) => connect(c, c.req.valid('query')))
  .openapi(connectRoute('/ws', 'connectWebSocketLegacy'), async (c) => connect(c, c.req.valid('query')))
  .openapi(
    createRoute({
      method: 'get',
      path: '/stats',
      operationId: 'realtimeStats',
      tags: ['realtime'],
      summary: 'Open connections, active rooms, messages in and out — counted across every hub and room object',
      security: [],
      responses: { 200: jsonResponse(Stats, 'Counters'), ...errorResponses('service_unavailable') },
    }),
    async (c) => c.json(await statsStub(c.env).read(), 200),
  );
