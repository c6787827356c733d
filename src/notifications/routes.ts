import { createRoute, z } from '@hono/zod-openapi';
import { ANY_ROLE } from '../lib/access';
import { NOTIFICATION_PRIORITIES } from '../db/schema';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { deleteNotification, listInbox, markAllRead, markRead, notificationView, unreadCount } from './inbox';

const read = { roles: ANY_ROLE, scope: 'notifications:read' } as const;
const write = { roles: ANY_ROLE, scope: 'notifications:write' } as const;
const tags = ['notifications'];

const NotificationSchema = z
  .object({
    id: z.number().int(),
    category: z.string().openapi({ example: 'security' }),
    title: z.string(),
    body: z.string(),
    data: z.record(z.string(), z.unknown()),
    priority: z.enum(NOTIFICATION_PRIORITIES),
    created_at: z.string(),
    read_at: z.string().nullable(),
  })
  .openapi('Notification');

const InboxQuery = PageQuery.extend({
  unread: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name: 'unread', in: 'query' }, description: '`true` lists unread notifications only' }),
});

const notFound = () => new ApiError('not_found', 'Notification not found');

export const notificationRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listNotifications',
        tags,
        summary: 'Your in-app notifications, newest first',
        request: { query: InboxQuery },
        responses: {
          200: jsonResponse(pageOf(NotificationSchema, 'NotificationPage'), 'Inbox page'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listInbox(c.var.db, c.var.principal.userId, q.unread === 'true', q.limit, decodeCursor(q.cursor));
      return c.json(toPage(rows, q.limit, notificationView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/unread-count',
        operationId: 'countUnreadNotifications',
        tags,
        summary: 'How many of your notifications are unread',
        responses: { 200: jsonResponse(z.object({ unread: z.number().int() }).openapi('UnreadCount'), 'Count') },
      }),
    ),
    async (c) => c.json({ unread: await unreadCount(c.var.db, c.var.principal.userId) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/read',
        operationId: 'markNotificationRead',
        tags,
        summary: 'Mark one notification read (idempotent)',
        request: { params: IdParam },
        responses: { 200: jsonResponse(NotificationSchema, 'The notification'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const row = await markRead(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!row) throw notFound();
      return c.json(notificationView(row), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/read-all',
        operationId: 'markAllNotificationsRead',
        tags,
        summary: 'Mark all your notifications read',
        responses: { 200: jsonResponse(z.object({ marked: z.number().int() }).openapi('MarkedRead'), 'How many were unread') },
      }),
    ),
    async (c) => c.json({ marked: await markAllRead(c.var.db, c.var.principal.userId) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/{id}',
        operationId: 'deleteNotification',
        tags,
        summary: 'Delete one of your notifications',
        request: { params: IdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      if (!(await deleteNotification(c.var.db, c.var.principal.userId, c.req.valid('param').id))) throw notFound();
      return c.newResponse(null, 204);
    },
  );
