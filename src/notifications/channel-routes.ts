import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS, WRITERS, type Principal } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { deleteConfig, listConfigs, rotateWebhookSecret, saveConfig, type Scope } from './config';
import { ChannelParams, ConfigBody, ConfigSchema, ScopeQuery } from './schemas';
import { requestMeta } from '../lib/context';
import { DAILY_QUOTAS, listServiceDomains, setServiceDomains } from './relay';

const read = { roles: WRITERS, scope: 'notifications:read' } as const;
const write = { roles: WRITERS, scope: 'notifications:write' } as const;
const tags = ['notifications'];

/** `?scope=global` is the service-wide configuration: admins only. */
function scopeOf(p: Principal, scope: 'mine' | 'global'): Scope {
  if (scope === 'mine') return { kind: 'user', userId: p.userId };
  if (p.role !== 'admin') throw new ApiError('forbidden', 'Only admins manage the global channel configurations');
  return { kind: 'global' };
}

const WebhookName = z.object({ name: ChannelParams.shape.name });

const adminRead = { roles: ADMINS, scope: 'notifications:read' } as const;
const adminWrite = { roles: ADMINS, scope: 'notifications:write' } as const;
const Domain = z
  .string()
  .min(3)
  .max(253)
  // No `i` flag: the OpenAPI document carries only the pattern's source, so the case goes in the classes.
  .regex(/^(?=.{3,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$/, 'a domain name such as acme.example');
const ServiceEmail = z
  .object({
    domains: z.array(z.string()).openapi({ description: "Approved recipient domains of the service's email sender" }),
    daily_quotas: z.record(z.string(), z.number().int()).openapi({ description: 'Deliveries per user per channel per 24 hours' }),
  })
  .openapi('ServiceEmailPolicy');

export const notificationChannelRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/channels',
        operationId: 'listNotificationChannels',
        tags,
        summary: 'Your channel configurations (secrets as hints only); ?scope=global for the service-wide ones',
        request: { query: ScopeQuery },
        responses: {
          200: jsonResponse(z.object({ items: z.array(ConfigSchema) }).openapi('NotificationChannelConfigList'), 'Configurations'),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => c.json({ items: await listConfigs(c.env, c.var.db, scopeOf(c.var.principal, c.req.valid('query').scope)) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'put',
        path: '/channels/{channel}/{name}',
        operationId: 'saveNotificationChannel',
        tags,
        summary: 'Create or replace a channel configuration; generated secrets (webhook signing secret) are shown once here',
        request: { params: ChannelParams, query: ScopeQuery, body: jsonBody(ConfigBody) },
        responses: {
          200: jsonResponse(
            ConfigSchema.extend({ revealed: z.record(z.string(), z.string()).nullable() }).openapi('NotificationChannelConfigSaved'),
            'Saved',
          ),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const { channel, name } = c.req.valid('param');
      const out = await saveConfig(
        c.env,
        c.var.db,
        requestMeta(c),
        scopeOf(c.var.principal, c.req.valid('query').scope),
        channel,
        name,
        c.req.valid('json'),
      );
      return c.json({ ...out.view, revealed: out.reveal }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/channels/{channel}/{name}',
        operationId: 'deleteNotificationChannel',
        tags,
        summary: 'Delete a channel configuration',
        request: { params: ChannelParams, query: ScopeQuery },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const { channel, name } = c.req.valid('param');
      await deleteConfig(c.var.db, requestMeta(c), scopeOf(c.var.principal, c.req.valid('query').scope), channel, name);
      return c.newResponse(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/channels/webhook/{name}/rotate-secret',
        operationId: 'rotateNotificationWebhookSecret',
        tags,
        summary: 'New signing secret for a webhook configuration; the previous one also signs for 24 hours',
        request: { params: WebhookName, query: ScopeQuery },
        responses: {
          200: jsonResponse(
            z
              .object({ signing_secret: z.string(), previous_valid_until: z.string(), config: ConfigSchema })
              .openapi('NotificationWebhookSecretRotated'),
            'The new secret, shown once',
          ),
          ...errorResponses('validation_error', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const out = await rotateWebhookSecret(
        c.env,
        c.var.db,
        requestMeta(c),
        scopeOf(c.var.principal, c.req.valid('query').scope),
        c.req.valid('param').name,
      );
      return c.json({ signing_secret: out.signing_secret, previous_valid_until: out.previous_valid_until, config: out.view }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(adminRead, {
        method: 'get',
        path: '/service-email',
        operationId: 'getServiceEmailPolicy',
        tags,
        summary: "Where the service's own email sender may write for non-admins (admin), and the per-user daily quotas",
        responses: { 200: jsonResponse(ServiceEmail, 'The policy') },
      }),
    ),
    async (c) => c.json({ domains: await listServiceDomains(c.var.db), daily_quotas: DAILY_QUOTAS }, 200),
  )
  .openapi(
    createRoute(
      withAccess(adminWrite, {
        method: 'put',
        path: '/service-email/domains',
        operationId: 'setServiceEmailDomains',
        tags,
        summary: "Replace the domains the service's email sender may write to for anyone (admin)",
        request: { body: jsonBody(z.strictObject({ domains: z.array(Domain).max(100) }).openapi('ServiceEmailDomainsRequest')) },
        responses: { 200: jsonResponse(ServiceEmail, 'The policy now'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const domains = await setServiceDomains(c.var.db, requestMeta(c), c.req.valid('json').domains);
      return c.json({ domains, daily_quotas: DAILY_QUOTAS }, 200);
    },
  );
