import { createRoute, z } from '@hono/zod-openapi';
import { ANY_ROLE, type Principal } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { EVENT_TYPES, type Scope } from './catalogue';
import { insights } from './insights';
import { series, summary, topLists, userActivity, workflowActivity } from './queries';
import { resolveWindow, windowView } from './ranges';
import { buildReport } from './report';
import {
  ReportSchema,
  CustomEventsBody,
  EventsAcceptedSchema,
  EventTypesSchema,
  InsightsSchema,
  ListQuery,
  ReportQuery,
  SeriesQuery,
  SeriesSchema,
  SummarySchema,
  TopSchema,
  UsersSchema,
  WindowQuery,
  WorkflowsSchema,
} from './schemas';
import { storeCustomEvents } from './track';

const read = { roles: ANY_ROLE, scope: 'analytics:read' } as const;
const write = { roles: ANY_ROLE, scope: 'analytics:write' } as const;
const tags = ['analytics'];
const ACCESS_NOTE = 'You see your own events; admins see the whole service (`scope=all`, their default) or their own (`scope=mine`).';

/** Whose events a request may count: an admin's default is everybody's, anyone else only their own. */
function scopeFor(p: Principal, asked: 'mine' | 'all' | undefined): Scope {
  const admin = p.role === 'admin';
  const scope = asked ?? (admin ? 'all' : 'mine');
  if (scope === 'all' && !admin) throw new ApiError('forbidden', 'Service-wide analytics are for admins');
  return { userId: scope === 'all' ? null : p.userId };
}

const windowOf = (q: {
  time_range?: 'hour' | 'day' | 'week' | 'month' | 'quarter' | 'year' | undefined;
  from?: number | undefined;
  to?: number | undefined;
}) => resolveWindow({ range: q.time_range, from: q.from, to: q.to, now: Date.now() });

const failures = errorResponses('validation_error', 'bad_request');

function summaryRoute(operationId: string, summaryText: string) {
  return createRoute(
    withAccess(read, {
      method: 'get',
      path: '/summary',
      operationId,
      tags,
      summary: summaryText,
      description: `Events in the window by type, each with its count in the previous period of the same length (change, and percentage change — null when the previous count is 0), and the bucketed series of all events (UTC, empty buckets as 0). ${ACCESS_NOTE}`,
      request: { query: WindowQuery },
      responses: { 200: jsonResponse(SummarySchema, 'Summary'), ...failures },
    }),
  );
}

/** The seeds' path, `GET /api/v3/advanced/analytics/summary?time_range=day`: the same summary. */
export const seedAnalyticsRoutes = createRouter().openapi(
  summaryRoute('analyticsSummarySeedPath', "Analytics summary (the original API's path)"),
  async (c) => {
    const q = c.req.valid('query');
    return c.json(await summary(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q)), 200);
  },
);

export const analyticsRoutes = createRouter()
  .openapi(summaryRoute('analyticsSummary', 'Event counts, trends and series for a time range'), async (c) => {
    const q = c.req.valid('query');
    return c.json(await summary(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q)), 200);
  })
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/series',
        operationId: 'analyticsSeries',
        tags,
        summary: 'Bucketed series per event type',
        description: `The series of all events and of each type (or only \`type\`), every bucket present. ${ACCESS_NOTE}`,
        request: { query: SeriesQuery },
        responses: { 200: jsonResponse(SeriesSchema, 'Series'), ...failures },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await series(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q), q.type), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/users',
        operationId: 'analyticsUsers',
        tags,
        summary: 'Activity per user, most active first',
        description: `Events per user and type in the window. ${ACCESS_NOTE}`,
        request: { query: ListQuery },
        responses: { 200: jsonResponse(UsersSchema, 'Per-user activity'), ...failures },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await userActivity(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q), q.limit), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/workflows',
        operationId: 'analyticsWorkflows',
        tags,
        summary: 'Activity per workflow, most run first',
        description: `Runs started, completed and failed, documents generated and edited, and tokens of runs finished in the window, per workflow. Durations per node are in each workflow's run analytics (\`analytics_url\`). ${ACCESS_NOTE}`,
        request: { query: ListQuery },
        responses: { 200: jsonResponse(WorkflowsSchema, 'Per-workflow activity'), ...failures },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const w = windowOf(q);
      const scope = scopeFor(c.var.principal, q.scope);
      return c.json(
        {
          scope: scope.userId === null ? ('all' as const) : ('mine' as const),
          ...windowView(w),
          items: await workflowActivity(c.var.db, scope, w, q.limit),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/top',
        operationId: 'analyticsTop',
        tags,
        summary: 'Most active users, most run and most failing workflows',
        description: ACCESS_NOTE,
        request: { query: ListQuery },
        responses: { 200: jsonResponse(TopSchema, 'Top lists'), ...failures },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await topLists(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q), q.limit), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/insights',
        operationId: 'analyticsInsights',
        tags,
        summary: 'Anomalies, failure spikes, slowest nodes, most expensive workflows',
        description: `Anomalies: days whose count has a robust z-score (median and MAD of the daily series, at least 14 days) above 3.5 in absolute value and at least 5 events from the median. Failure spikes: workflows with 3 or more failed runs whose failure rate rose by 20 points or more against the previous period. Each insight carries the figures it was computed from. ${ACCESS_NOTE}`,
        request: { query: WindowQuery },
        responses: { 200: jsonResponse(InsightsSchema, 'Insights'), ...failures },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await insights(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/report',
        operationId: 'analyticsReport',
        tags,
        summary: 'A report as CSV or JSON',
        description: `One table (\`dataset\`: summary, series, users or workflows) as JSON or CSV (RFC 4180; text cells starting with = + - @ are prefixed with an apostrophe so no spreadsheet evaluates them). ${ACCESS_NOTE}`,
        request: { query: ReportQuery },
        responses: {
          200: {
            description: 'The report',
            content: {
              'application/json': {
                schema: ReportSchema,
              },
              'text/csv': { schema: z.string() },
            },
          },
          ...failures,
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const report = await buildReport(c.var.db, scopeFor(c.var.principal, q.scope), windowOf(q), q.dataset, q.format);
      if (typeof report === 'string') {
        const name = `analytics-${q.dataset}-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
        return new Response(report, {
          status: 200,
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="${name}"`,
            'cache-control': 'no-store',
          },
        });
      }
      return c.json(report, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/event-types',
        operationId: 'analyticsEventTypes',
        tags,
        summary: 'The event types counted, and where each is counted from',
        responses: { 200: jsonResponse(EventTypesSchema, 'Event types') },
      }),
    ),
    (c) => c.json({ items: Object.entries(EVENT_TYPES).map(([type, source]) => ({ type, source })) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/events',
        operationId: 'trackAnalyticsEvents',
        tags,
        summary: 'Track custom events (up to 50 per request)',
        description:
          'Stored as `custom.<name>` for the caller. `event_id` makes a retry safe (a second post of the same id is a `duplicate`). At most 10,000 custom events per user per 24 hours (429 beyond); events may be dated up to 7 days back.',
        request: { body: jsonBody(CustomEventsBody) },
        responses: {
          201: jsonResponse(EventsAcceptedSchema, 'What happened to each event'),
          ...errorResponses('validation_error', 'bad_request', 'not_found', 'rate_limited'),
        },
      }),
    ),
    async (c) => {
      const p = c.var.principal;
      const results = await storeCustomEvents(c.var.db, { id: p.userId, admin: p.role === 'admin' }, c.req.valid('json').events);
      return c.json({ results }, 201);
    },
  );
