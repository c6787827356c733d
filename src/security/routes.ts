import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS } from '../lib/access';
import { SECURITY_EVENT_TYPES, SEVERITIES, type securityEvents } from '../db/schema';
import { createRouter, errorResponses, instantQuery, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { toIso } from '../lib/time';
import { listSecurityEvents, securityStats } from './stats';

const read = { roles: ADMINS, scope: 'security:read' } as const;
const tags = ['security'];

const EventQuery = PageQuery.extend({
  type: z
    .enum(SECURITY_EVENT_TYPES)
    .optional()
    .openapi({ param: { name: 'type', in: 'query' } }),
  severity: z
    .enum(SEVERITIES)
    .optional()
    .openapi({ param: { name: 'severity', in: 'query' }, description: 'Minimum severity: `high` lists high and critical' }),
  user_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'user_id', in: 'query' } }),
  ip: z
    .string()
    .max(64)
    .optional()
    .openapi({ param: { name: 'ip', in: 'query' } }),
  from: instantQuery('from', 'Events at or after this instant (ISO 8601 or epoch ms)'),
  to: instantQuery('to', 'Events at or before this instant'),
});

const EventSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    type: z.enum(SECURITY_EVENT_TYPES),
    severity: z.enum(SEVERITIES),
    user_id: z.number().int().nullable(),
    ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('SecurityEvent');

const eventView = (e: typeof securityEvents.$inferSelect): z.infer<typeof EventSchema> => ({
  id: e.id,
  at: toIso(e.at),
  type: e.type,
  severity: e.severity,
  user_id: e.userId,
  ip: e.ip,
  details: e.details ?? {},
});

const count = z.number().int();
const StatsSchema = z
  .object({
    window_hours: count,
    generated_at: z.string(),
    events: z.object({
      total: count,
      by_type: z.record(z.string(), count),
      by_severity: z.record(z.string(), count),
      recent_alerts: z.array(EventSchema),
    }),
    logins: z.object({ succeeded: count, failed: count }),
    sessions: z.object({ active: count, users_signed_in: count }),
    users: z.object({ total: count, admins: count, mfa_enabled: count, mfa_adoption: z.number() }),
    api_keys: z.object({ active: count, used_in_window: count }),
    configuration: z.object({ ip_rules: count, rate_limit_overrides: count }),
    audit: z.object({ entries: count, unsealed: count }),
  })
  .openapi('SecurityStats');

export const securityRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/events',
        operationId: 'listSecurityEvents',
        tags,
        summary: 'Security events (admin)',
        description:
          "Failed-login bursts, refresh-token reuse, rate-limit breaches, MFA failures, access-denied spikes, blocked IPs and account changes, newest first. High and critical events are also pushed live to every admin's WebSocket connections as `notification` frames.",
        request: { query: EventQuery },
        responses: {
          200: jsonResponse(pageOf(EventSchema, 'SecurityEventPage'), 'Events, newest first'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listSecurityEvents(
        c.var.db,
        { type: q.type, severity: q.severity, userId: q.user_id, ip: q.ip, from: q.from, to: q.to },
        q.limit,
        decodeCursor(q.cursor),
      );
      return c.json(toPage(rows, q.limit, eventView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/stats',
        operationId: 'securityStats',
        tags,
        summary: "Security statistics (admin; the seeds' path)",
        description:
          'Every figure is counted from stored rows over the window (default 24 hours): events by type and severity, sign-ins, sessions, MFA adoption, API keys, configured rules, audit chain state.',
        request: {
          query: z.object({
            window_hours: z.coerce
              .number()
              .int()
              .min(1)
              .max(24 * 90)
              .default(24)
              .openapi({ param: { name: 'window_hours', in: 'query' } }),
          }),
        },
        responses: { 200: jsonResponse(StatsSchema, 'Statistics'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const s = await securityStats(c.var.db, c.req.valid('query').window_hours);
      return c.json({ ...s, events: { ...s.events, recent_alerts: s.events.recent_alerts.map(eventView) } }, 200);
    },
  );
