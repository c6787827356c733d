import { z } from '@hono/zod-openapi';
import { instantQuery } from '../lib/openapi';
import { REPORT_DATASETS } from './report';
import { TIME_RANGE_NAMES } from './ranges';

export const WindowQuery = z.object({
  time_range: z
    .enum(TIME_RANGE_NAMES)
    .optional()
    .openapi({
      param: { name: 'time_range', in: 'query' },
      description:
        'hour (5-minute buckets), day (1 h), week (6 h), month (1 d, 30 days), quarter (1 d, 90 days), year (1 week, 52 weeks). Default: day',
      example: 'day',
    }),
  from: instantQuery('from', 'Start of a custom window (ISO 8601 or epoch ms); takes precedence over `time_range`'),
  to: instantQuery('to', 'End of the window (default: now)'),
  scope: z
    .enum(['mine', 'all'])
    .optional()
    .openapi({
      param: { name: 'scope', in: 'query' },
      description: 'all: the whole service (admins only, and their default); mine: your own events',
    }),
});

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(50)
  .default(10)
  .openapi({ param: { name: 'limit', in: 'query' }, description: 'Rows per list, 1–50', example: 10 });

export const ListQuery = WindowQuery.extend({ limit });

/** Event types are dotted lower-case words: built-in ones (`run.failed`) and `custom.<name>`. */
const TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_-]+)+$/;
export const SeriesQuery = WindowQuery.extend({
  type: z
    .string()
    .max(80)
    .regex(TYPE, 'an event type such as run.failed or custom.signup')
    .optional()
    .openapi({ param: { name: 'type', in: 'query' }, example: 'run.failed' }),
});

export const ReportQuery = WindowQuery.extend({
  dataset: z
    .enum(REPORT_DATASETS)
    .default('summary')
    .openapi({ param: { name: 'dataset', in: 'query' } }),
  format: z
    .enum(['json', 'csv'])
    .default('json')
    .openapi({ param: { name: 'format', in: 'query' } }),
});

const NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
const CustomEventSchema = z.strictObject({
  name: z
    .string()
    .max(64)
    .regex(NAME, 'lower-case letters, digits, _ . -, starting with a letter')
    .openapi({ example: 'report.downloaded' }),
  occurred_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'When it happened (default: now); at most 7 days ago' }),
  workflow_id: z.number().int().positive().optional(),
  properties: z
    .record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean(), z.null()]))
    .refine((r) => Object.keys(r).length <= 20, 'at most 20 properties')
    .optional()
    .openapi({ maxProperties: 20 }),
  event_id: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .optional()
    .openapi({ description: 'Your id for this event: posting it again stores nothing new (safe retries)' }),
});

export const CustomEventsBody = z.strictObject({ events: z.array(CustomEventSchema).min(1).max(50) }).openapi('AnalyticsEventsRequest');

const Trend = z
  .object({ count: z.number().int(), previous: z.number().int(), change: z.number().int(), change_pct: z.number().nullable() })
  .openapi('AnalyticsTrend');
const Point = z.object({ start: z.string(), count: z.number().int() }).openapi('AnalyticsPoint');
const WindowFields = {
  scope: z.enum(['mine', 'all']),
  time_range: z.enum([...TIME_RANGE_NAMES, 'custom']),
  from: z.string(),
  to: z.string(),
  bucket: z.string().openapi({ example: '1h' }),
  buckets: z.number().int(),
  previous: z.object({ from: z.string(), to: z.string() }),
};

export const ReportSchema = z
  .object({
    ...WindowFields,
    dataset: z.enum(REPORT_DATASETS),
    columns: z.array(z.string()),
    rows: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi('AnalyticsReport');

export const SummarySchema = z
  .object({ ...WindowFields, totals: Trend, by_type: z.record(z.string(), Trend), series: z.array(Point) })
  .openapi('AnalyticsSummary');
export const SeriesSchema = z
  .object({ ...WindowFields, total: z.array(Point), by_type: z.record(z.string(), z.array(Point)) })
  .openapi('AnalyticsSeries');
export const UsersSchema = z
  .object({
    ...WindowFields,
    items: z.array(
      z.object({
        user_id: z.number().int(),
        username: z.string().nullable(),
        total: z.number().int(),
        by_type: z.record(z.string(), z.number().int()),
      }),
    ),
  })
  .openapi('AnalyticsUsers');

const WorkflowActivitySchema = z
  .object({
    workflow_id: z.number().int(),
    name: z.string().nullable(),
    runs_started: z.number().int(),
    runs_completed: z.number().int(),
    runs_failed: z.number().int(),
    failure_rate: z.number().nullable(),
    documents_generated: z.number().int(),
    documents_edited: z.number().int(),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    analytics_url: z.string(),
  })
  .openapi('AnalyticsWorkflowActivity');
export const WorkflowsSchema = z.object({ ...WindowFields, items: z.array(WorkflowActivitySchema) }).openapi('AnalyticsWorkflows');

export const TopSchema = z
  .object({
    ...WindowFields,
    most_active_users: z.array(z.object({ user_id: z.number().int(), username: z.string().nullable(), events: z.number().int() })),
    most_run_workflows: z.array(
      z.object({ workflow_id: z.number().int(), name: z.string().nullable(), runs_started: z.number().int(), analytics_url: z.string() }),
    ),
    most_failing_workflows: z.array(
      z.object({
        workflow_id: z.number().int(),
        name: z.string().nullable(),
        runs_failed: z.number().int(),
        runs_completed: z.number().int(),
        failure_rate: z.number().nullable(),
        analytics_url: z.string(),
      }),
    ),
  })
  .openapi('AnalyticsTop');

const Insight = z.object({ kind: z.string(), message: z.string() }).catchall(z.unknown());
export const InsightsSchema = z
  .object({
    ...WindowFields,
    anomalies: z.array(Insight),
    failure_spikes: z.array(Insight),
    slowest_nodes: z.array(Insight),
    expensive_workflows: z.array(Insight),
  })
  .openapi('AnalyticsInsights');

export const EventsAcceptedSchema = z
  .object({
    results: z.array(
      z.object({ name: z.string(), event_id: z.string().nullable(), outcome: z.enum(['stored', 'duplicate', 'over_quota']) }),
    ),
  })
  .openapi('AnalyticsEventsAccepted');

export const EventTypesSchema = z
  .object({ items: z.array(z.object({ type: z.string(), source: z.string() })) })
  .openapi('AnalyticsEventTypes');
