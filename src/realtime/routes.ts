import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ANY_ROLE } from '../lib/access';
import type { AppEnv } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonResponse, withAccess } from '../lib/openapi';
import { userChannel } from './protocol';
import { hubStub, statsStub } from './rpc';
import { issueSocketTicket } from '../auth';

/** The subprotocol the server speaks; an access token can ride along as `bearer.<token>`. */
export const PROTOCOL = 'dwc.v1';

const ConnectQuery = z.object({
  ticket: z
    .string()
    .max(200)
    .optional()
    .openapi({
      param: { name: 'ticket', in: 'query' },
      description: 'A single-use ticket from `POST /api/v3/ws/ticket` (valid 30 seconds): how a browser connects',
    }),
  token: z
    .string()
    .max(2048)
    .optional()
    .openapi({
      param: { name: 'token', in: 'query' },
      description: 'An access token (or send it as the subprotocol `bearer.<token>`). Never an API key: send X-API-Key, or use a ticket',
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
      description: 'Accepted for compatibility with the original API and ignored: identity comes from the credential',
    }),
});

/** The guard applies to the upgrade as to any request: IP rules, rate limits, role and scope. */
const socketAccess = { roles: ANY_ROLE, scope: 'workflows:read', socket: true } as const;

const connectRoute = (path: string, operationId: string) =>
  Object.assign(
    createRoute(
      withAccess(socketAccess, {
        method: 'get',
        path,
        operationId,
        tags: ['realtime'],
        summary:
          'Open a WebSocket (JSON frames: ping, join_workflow, leave_workflow, join_room, leave_room, publish, grant_room, revoke_room)',
        description:
          'Authenticated like any request (the same guard: IP rules, rate limits, role, scope `workflows:read` for API keys) before upgrading. Browsers use a single-use ticket (`POST /api/v3/ws/ticket`, then `?ticket=`); other clients send `Authorization` or `X-API-Key`; an access token is also accepted in `?token=` or `Sec-WebSocket-Protocol: dwc.v1, bearer.<token>`, an API key never in the URL. A socket closes (code 4401) within seconds of its session ending or its key being revoked. See docs/api/realtime.md for the frames.',
        request: { query: ConnectQuery },
        responses: {
          101: { description: 'Switching Protocols: the WebSocket is open' },
          ...errorResponses('bad_request', 'validation_error', 'rate_limited'),
        },
      }),
    ),
    // Besides the headers every route takes, the ways a browser's WebSocket can carry a credential.
    { security: [{ wsTicket: [] }, { bearerAuth: [] }, { apiKeyHeader: [] }, { wsToken: [] }] },
  );

/**
 * Hands the authenticated upgrade to the user's hub object, with the identity the guard
 * established in headers only this Worker can set (the hub is not reachable from outside), and
 * the session or key it stands on, which the hub re-checks while the socket is open.
 */
async function connect(c: Context<AppEnv>, query: z.infer<typeof ConnectQuery>): Promise<Response> {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('bad_request', 'Expected a WebSocket upgrade request');
  const p = c.var.principal;
  const headers = new Headers({ upgrade: 'websocket', 'x-dwc-user-id': String(p.userId) });
  if (p.kind === 'session') headers.set('x-dwc-session-id', p.sessionId);
  else headers.set('x-dwc-api-key-id', String(p.apiKeyId));
  if (query.connection_id) headers.set('x-dwc-connection-label', query.connection_id);
  if (c.req.header('sec-websocket-protocol')) headers.set('x-dwc-protocol', PROTOCOL);
  return hubStub(c.env, userChannel(p.userId)).fetch(new Request(c.req.url, { headers }));
}

const Ticket = z
  .object({
    ticket: z.string().openapi({ description: 'Use once, within `expires_in` seconds: `wss://…/api/v3/ws?ticket=<ticket>`' }),
    expires_in: z.number().int(),
  })
  .openapi('WebSocketTicket');

const Stats = z
  .object({
    connections: z.number().int(),
    rooms: z.number().int().openapi({ description: 'Rooms with at least one subscriber' }),
    messages_in: z.number().int(),
    messages_out: z.number().int(),
  })
  .openapi('RealtimeStats');

export const realtimeRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(
        { roles: ANY_ROLE, scope: 'workflows:read' },
        {
          method: 'post',
          path: '/ticket',
          operationId: 'createWebSocketTicket',
          tags: ['realtime'],
          summary: 'A single-use ticket (30 s) to open a WebSocket with, instead of a credential in the URL',
          responses: { 201: jsonResponse(Ticket, 'The ticket') },
        },
      ),
    ),
    async (c) => {
      const { ticket, expiresIn } = await issueSocketTicket(c.var.db, c.var.principal);
      return c.json({ ticket, expires_in: expiresIn }, 201);
    },
  )
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
