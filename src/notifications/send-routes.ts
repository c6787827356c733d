import { createRoute } from '@hono/zod-openapi';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, pageOf, toPage } from '../lib/pagination';
import { cancelDelivery, deliveryViews, getDelivery, listDeliveries } from './history';
import { BulkSendBody, DeliveryQuery, DeliverySchema, SendBody, SendResultSchema } from './schemas';
import { sendNotifications } from './send';
import { requestMeta } from '../lib/context';

const send = { roles: WRITERS, scope: 'notifications:write' } as const;
const read = { roles: ANY_ROLE, scope: 'notifications:read' } as const;
const tags = ['notifications'];
const sendErrors = errorResponses('validation_error', 'bad_request', 'forbidden', 'rate_limited');

const sendRoute = (operationId: string) =>
  createRoute(
    withAccess(send, {
      method: 'post',
      path: '/send',
      operationId,
      tags,
      summary: 'Send a notification on one channel (now or at send_at), through the background task layer',
      request: { body: jsonBody(SendBody) },
      responses: { 202: jsonResponse(SendResultSchema, 'Accepted: the deliveries (skipped ones included) and their batch'), ...sendErrors },
    }),
  );

/** Mounted at /api/v3/notifications (canonical) and, the send route only, at /api/v3/advanced/notifications (the seeds' path). */
export function notificationSendRoutes(prefix: 'canonical' | 'seeds') {
  const router = createRouter().openapi(sendRoute(prefix === 'canonical' ? 'sendNotification' : 'sendNotificationAdvanced'), async (c) => {
    const { recipient, ...rest } = c.req.valid('json');
    const p = c.var.principal;
    const out = await sendNotifications(
      c.env,
      c.var.db,
      requestMeta(c),
      { userId: p.userId, role: p.role },
      { ...rest, recipients: [{ recipient }] },
      () => ['recipient'],
    );
    return c.json({ batch_id: out.batchId, deliveries: await deliveryViews(c.var.db, out.rows) }, 202);
  });
  if (prefix === 'seeds') return router;
  return router
    .openapi(
      createRoute(
        withAccess(send, {
          method: 'post',
          path: '/send/bulk',
          operationId: 'sendNotificationsBulk',
          tags,
          summary: 'Send one notification to up to 100 recipients: all valid or none stored',
          request: { body: jsonBody(BulkSendBody) },
          responses: { 202: jsonResponse(SendResultSchema, 'Accepted'), ...sendErrors },
        }),
      ),
      async (c) => {
        const { recipients, ...rest } = c.req.valid('json');
        const p = c.var.principal;
        const list = recipients.map((r) => (typeof r === 'string' ? { recipient: r } : r));
        const out = await sendNotifications(
          c.env,
          c.var.db,
          requestMeta(c),
          { userId: p.userId, role: p.role },
          { ...rest, recipients: list },
          (i) => ['recipients', i],
        );
        return c.json({ batch_id: out.batchId, deliveries: await deliveryViews(c.var.db, out.rows) }, 202);
      },
    )
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/deliveries',
          operationId: 'listNotificationDeliveries',
          tags,
          summary: 'History of the notifications you sent, newest first; filter by recipient, channel, status or batch',
          request: { query: DeliveryQuery },
          responses: {
            200: jsonResponse(pageOf(DeliverySchema, 'NotificationDeliveryPage'), 'Page'),
            ...errorResponses('validation_error', 'bad_request'),
          },
        }),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const rows = await listDeliveries(c.var.db, c.var.principal.userId, q, q.limit, decodeCursor(q.cursor));
        const page = toPage(rows, q.limit, (r) => r);
        const views = await deliveryViews(c.var.db, page.items);
        return c.json({ items: views, next_cursor: page.next_cursor }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/deliveries/{id}/history',
          operationId: 'getNotificationDelivery',
          tags,
          summary: 'One notification you sent, with every attempt (status, provider response code, latency)',
          request: { params: IdParam },
          responses: { 200: jsonResponse(DeliverySchema, 'The delivery'), ...errorResponses('validation_error', 'not_found') },
        }),
      ),
      async (c) => c.json(await getDelivery(c.var.db, c.var.principal.userId, c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute(
        withAccess(send, {
          method: 'post',
          path: '/deliveries/{id}/cancel',
          operationId: 'cancelNotificationDelivery',
          tags,
          summary: 'Cancel a notification not sent yet (e.g. scheduled); 409 once it is being sent or has finished',
          request: { params: IdParam },
          responses: {
            200: jsonResponse(DeliverySchema, 'The cancelled delivery'),
            ...errorResponses('validation_error', 'not_found', 'conflict'),
          },
        }),
      ),
      async (c) => c.json(await cancelDelivery(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id), 200),
    );
}
