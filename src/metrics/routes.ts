import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { labelKey, type Family, type MetricType } from './model';
import { serviceStats, systemOverview } from './overview';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus';
import { toDelta } from './record';
import {
  ExportSchema,
  FamilyDetailSchema,
  FamilyNameParam,
  FamilyPageQuery,
  FamilyQuery,
  FamilySchema,
  OverviewQuery,
  OverviewSchema,
  RecordBody,
  RecordedSchema,
  ServiceStatsSchema,
  TypeParam,
} from './schemas';
import { allFamilies, allWindows, recordCustom } from './queries';
import { snapshot, totalView, windowView } from './views';

/*
 * Access. Custom metrics are shared by the whole installation: editors and admins record them
 * and read them back. The overview, the service stats, the export and /metrics show traffic and
 * workflow totals across every user, so they are for admins; a scraper uses an admin's API key
 * with the `metrics:read` scope (Prometheus: `authorization: {credentials: dwc_…}`).
 */
const write = { roles: WRITERS, scope: 'metrics:write' } as const;
const readCustom = { roles: WRITERS, scope: 'metrics:read' } as const;
const admin = { roles: ADMINS, scope: 'metrics:read' } as const;
const tags = ['metrics'];

const familyView = (f: Family) => ({
  name: f.name,
  given_name: f.given,
  type: f.type,
  help: f.help,
  unit: f.unit,
  category: f.category,
  buckets: f.buckets,
});

const recordRoute = <P extends '/{type}' | '/metrics/{type}'>(path: P, operationId: string, summary: string) =>
  createRoute(
    withAccess(write, {
      method: 'post',
      path,
      operationId,
      tags,
      summary,
      description:
        'Counters add `value` (default 1); gauges set it (or add it, with `mode: "add"`); histograms, summaries and timers observe it (timers in milliseconds). A metric\'s type, buckets and help are fixed by its first record. Stored once the response is sent: concurrent records all count.',
      request: { params: TypeParam, body: jsonBody(RecordBody) },
      responses: { 201: jsonResponse(RecordedSchema, 'Recorded'), ...errorResponses('validation_error', 'conflict') },
    }),
  );

async function record(env: Env, type: MetricType, body: z.infer<typeof RecordBody>) {
  const delta = toDelta(type, body);
  const at = Date.now();
  const result = await recordCustom(env, delta, at);
  if (!result.ok) throw new ApiError('conflict', result.message);
  return {
    name: delta.family.name,
    given_name: body.name,
    type,
    category: delta.family.category,
    labels: delta.labels,
    value: delta.last,
    recorded_at: new Date(at).toISOString(),
  };
}

const overviewRoute = <P extends '/overview' | '/metrics/system/overview'>(path: P, operationId: string) =>
  createRoute(
    withAccess(admin, {
      method: 'get',
      path,
      operationId,
      tags,
      summary: 'System overview: HTTP traffic, workflows, tasks, schedules, storage',
      description:
        'Host CPU, memory and disk do not exist for a Worker; `platform` says so. Everything else is counted: HTTP from the metric shards, the rest from D1 rows.',
      request: { query: OverviewQuery },
      responses: { 200: jsonResponse(OverviewSchema, 'Overview'), ...errorResponses('validation_error') },
    }),
  );

const statsRoute = <P extends '/stats' | '/service/stats'>(path: P, operationId: string) =>
  createRoute(
    withAccess(admin, {
      method: 'get',
      path,
      operationId,
      tags,
      summary: 'The metrics service: families, series, stored points, storage, retention',
      responses: { 200: jsonResponse(ServiceStatsSchema, 'Statistics') },
    }),
  );

const encodeName = (name: string) =>
  btoa(JSON.stringify({ after: name }))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
function decodeName(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const parsed = z.object({ after: z.string().max(200) }).safeParse(
    (() => {
      try {
        return JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
      } catch {
        return null;
      }
    })(),
  );
  if (!parsed.success) throw new ApiError('bad_request', 'Invalid cursor');
  return parsed.data.after;
}

export const metricRoutes = createRouter()
  .openapi(recordRoute('/{type}', 'recordMetric', 'Record a custom metric (counter, gauge, histogram, summary, timer)'), async (c) =>
    c.json(await record(c.env, c.req.valid('param').type, c.req.valid('json')), 201),
  )
  .openapi(recordRoute('/metrics/{type}', 'recordMetricLegacy', "Record a custom metric (the original API's path)"), async (c) =>
    c.json(await record(c.env, c.req.valid('param').type, c.req.valid('json')), 201),
  )
  .openapi(
    createRoute(
      withAccess(readCustom, {
        method: 'get',
        path: '/families',
        operationId: 'listMetricFamilies',
        tags,
        summary: 'Metric families stored (custom and HTTP), by name',
        request: { query: FamilyPageQuery },
        responses: {
          200: jsonResponse(
            z.object({ items: z.array(FamilySchema), next_cursor: z.string().nullable() }).openapi('MetricFamilyPage'),
            'Families',
          ),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const after = decodeName(q.cursor);
      const rest = (await allFamilies(c.env)).filter((f) => after === undefined || f.name > after);
      const page = rest.slice(0, q.limit);
      return c.json(
        { items: page.map(familyView), next_cursor: rest.length > q.limit ? encodeName(page[page.length - 1]!.name) : null },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(readCustom, {
        method: 'get',
        path: '/families/{name}',
        operationId: 'getMetricFamily',
        tags,
        summary: 'One family over a window: per label set count, sum, min, max, last, rate and p50/p95/p99',
        request: { params: FamilyNameParam, query: FamilyQuery },
        responses: { 200: jsonResponse(FamilyDetailSchema, 'The family'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const { name } = c.req.valid('param');
      const { window_minutes } = c.req.valid('query');
      const family = (await allFamilies(c.env)).find((f) => f.name === name || f.given === name);
      if (!family) throw new ApiError('not_found', `No metric named ${name}`);
      const now = Date.now();
      const windows = await allWindows(c.env, now - window_minutes * 60_000, now + 1, family.name);
      const series = windows
        .sort((a, b) => (labelKey(a.labels) < labelKey(b.labels) ? -1 : 1))
        .map((w) => windowView(family, w, window_minutes * 60));
      return c.json({ ...familyView(family), window_minutes, series }, 200);
    },
  )
  .openapi(overviewRoute('/overview', 'metricsOverview'), async (c) =>
    c.json(await systemOverview(c.env, c.req.valid('query').window_minutes), 200),
  )
  .openapi(overviewRoute('/metrics/system/overview', 'metricsOverviewLegacy'), async (c) =>
    c.json(await systemOverview(c.env, c.req.valid('query').window_minutes), 200),
  )
  .openapi(statsRoute('/stats', 'metricsServiceStats'), async (c) => c.json(await serviceStats(c.env), 200))
  .openapi(statsRoute('/service/stats', 'metricsServiceStatsLegacy'), async (c) => c.json(await serviceStats(c.env), 200))
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'get',
        path: '/export',
        operationId: 'exportMetrics',
        tags,
        summary: 'Every metric as JSON: all-time values, bucket counts, percentiles',
        description:
          'The JSON twin of `GET /metrics`. Counters and histograms are totals since the series was created; summary percentiles cover the last 10 minutes; derived families are counted from D1 rows at this moment.',
        responses: { 200: jsonResponse(ExportSchema, 'Export') },
      }),
    ),
    async (c) => {
      const snap = await snapshot(c.env);
      const derived = new Set(snap.derived.families.map((f) => f.name));
      const families = snap.families.map((f) => ({
        ...familyView(f),
        derived: derived.has(f.name),
        series: snap.totals
          .filter((t) => t.family === f.name)
          .map((t) => totalView(f, t, snap.recent.get(`${f.name}\n${labelKey(t.labels)}`))),
      }));
      return c.json({ generated_at: new Date().toISOString(), families }, 200);
    },
  );

/** `GET /metrics`: Prometheus text exposition format 0.0.4. */
export const prometheusRoutes = createRouter().openapi(
  createRoute(
    withAccess(admin, {
      method: 'get',
      path: '/metrics',
      operationId: 'prometheusMetrics',
      tags,
      summary: 'Prometheus scrape endpoint (text format 0.0.4)',
      description:
        "Needs an admin session or an admin's API key with `metrics:read`, sent as `Authorization: Bearer dwc_…` (Prometheus `authorization: {credentials: …}`) or `X-API-Key`.",
      responses: { 200: { description: 'Exposition text', content: { 'text/plain': { schema: z.string() } } } },
    }),
  ),
  async (c) => {
    const snap = await snapshot(c.env);
    return c.text(renderPrometheus(snap.families, snap.totals, snap.recent), 200, {
      'content-type': PROMETHEUS_CONTENT_TYPE,
      'cache-control': 'no-store',
    });
  },
);
