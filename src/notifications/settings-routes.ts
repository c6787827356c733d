import { createRoute, z } from '@hono/zod-openapi';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { ApiError } from '../lib/errors';
import { globalVapidKey } from './config';
import { getPreferences, setPreferences } from './preferences';
import { PreferencesBody, PreferencesSchema, SubscriptionBody, SubscriptionSchema, TemplateBody, TemplateSchema } from './schemas';
import { deleteSubscription, listSubscriptions, saveSubscription, subscriptionView } from './subscriptions';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, replaceTemplate, templateView } from './templates';

const tplRead = { roles: WRITERS, scope: 'notifications:read' } as const;
const tplWrite = { roles: WRITERS, scope: 'notifications:write' } as const;
const read = { roles: ANY_ROLE, scope: 'notifications:read' } as const;
const write = { roles: ANY_ROLE, scope: 'notifications:write' } as const;
const tags = ['notifications'];

/** Templates (senders), and what every user controls about what reaches them: opt-outs and devices. */
export const notificationSettingsRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(tplWrite, {
        method: 'post',
        path: '/templates',
        operationId: 'createNotificationTemplate',
        tags,
        summary: 'Create a template; every {{variable}} it uses must be declared',
        request: { body: jsonBody(TemplateBody) },
        responses: { 201: jsonResponse(TemplateSchema, 'Created'), ...errorResponses('validation_error', 'conflict') },
      }),
    ),
    async (c) => c.json(templateView(await createTemplate(c.var.db, c.var.principal.userId, c.req.valid('json'))), 201),
  )
  .openapi(
    createRoute(
      withAccess(tplRead, {
        method: 'get',
        path: '/templates',
        operationId: 'listNotificationTemplates',
        tags,
        summary: 'Your templates, newest first',
        request: { query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(TemplateSchema, 'NotificationTemplatePage'), 'Page'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(
        toPage(await listTemplates(c.var.db, c.var.principal.userId, q.limit, decodeCursor(q.cursor)), q.limit, templateView),
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(tplRead, {
        method: 'get',
        path: '/templates/by-id/{id}',
        operationId: 'getNotificationTemplate',
        tags,
        summary: 'One template',
        request: { params: IdParam },
        responses: { 200: jsonResponse(TemplateSchema, 'The template'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => c.json(templateView(await getTemplate(c.var.db, c.var.principal.userId, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute(
      withAccess(tplWrite, {
        method: 'put',
        path: '/templates/by-id/{id}',
        operationId: 'replaceNotificationTemplate',
        tags,
        summary: 'Replace a template (validated like a new one)',
        request: { params: IdParam, body: jsonBody(TemplateBody) },
        responses: { 200: jsonResponse(TemplateSchema, 'The template'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) =>
      c.json(templateView(await replaceTemplate(c.var.db, c.var.principal.userId, c.req.valid('param').id, c.req.valid('json'))), 200),
  )
  .openapi(
    createRoute(
      withAccess(tplWrite, {
        method: 'delete',
        path: '/templates/by-id/{id}',
        operationId: 'deleteNotificationTemplate',
        tags,
        summary: 'Delete a template (notifications already sent keep their text)',
        request: { params: IdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      await deleteTemplate(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      return c.newResponse(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/preferences',
        operationId: 'getNotificationPreferences',
        tags,
        summary: 'Which channels reach you (false: opted out)',
        responses: { 200: jsonResponse(PreferencesSchema, 'Per channel') },
      }),
    ),
    async (c) => c.json(await getPreferences(c.var.db, c.var.principal.userId), 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'put',
        path: '/preferences',
        operationId: 'setNotificationPreferences',
        tags,
        summary:
          'Opt out of (false) or back into (true) channels; notifications to you on an opted-out channel are skipped and recorded as such',
        request: { body: jsonBody(PreferencesBody) },
        responses: { 200: jsonResponse(PreferencesSchema, 'Per channel'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => c.json(await setPreferences(c.var.db, c.var.principal.userId, c.req.valid('json')), 200),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/push/vapid-public-key',
        operationId: 'getVapidPublicKey',
        tags,
        summary: "The application server key for PushManager.subscribe(): the global push configuration's VAPID public key",
        responses: {
          200: jsonResponse(z.object({ public_key: z.string() }).openapi('VapidPublicKey'), 'base64url, uncompressed P-256'),
          ...errorResponses('not_found'),
        },
      }),
    ),
    async (c) => {
      const key = await globalVapidKey(c.var.db);
      if (!key)
        throw new ApiError(
          'not_found',
          'No global push configuration: an admin saves one with PUT /api/v3/notifications/channels/push/default?scope=global',
        );
      return c.json({ public_key: key }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/push/subscriptions',
        operationId: 'listPushSubscriptions',
        tags,
        summary: 'Your browsers subscribed to Web Push',
        responses: { 200: jsonResponse(z.object({ items: z.array(SubscriptionSchema) }).openapi('PushSubscriptionList'), 'Subscriptions') },
      }),
    ),
    async (c) => c.json({ items: (await listSubscriptions(c.var.db, c.var.principal.userId)).map(subscriptionView) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/push/subscriptions',
        operationId: 'createPushSubscription',
        tags,
        summary: "Store this browser's PushSubscription (the same endpoint again replaces its keys)",
        request: { body: jsonBody(SubscriptionBody) },
        responses: { 201: jsonResponse(SubscriptionSchema, 'Stored'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => c.json(subscriptionView(await saveSubscription(c.env, c.var.db, c.var.principal.userId, c.req.valid('json'))), 201),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/push/subscriptions/{id}',
        operationId: 'deletePushSubscription',
        tags,
        summary: 'Remove one of your push subscriptions',
        request: { params: IdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      if (!(await deleteSubscription(c.var.db, c.var.principal.userId, c.req.valid('param').id)))
        throw new ApiError('not_found', 'Push subscription not found');
      return c.newResponse(null, 204);
    },
  );
