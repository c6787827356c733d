import { z } from '@hono/zod-openapi';
import { MAX_BUCKETS } from './buckets';
import { METRIC_TYPES } from './model';
import { GIVEN_NAME, LABEL_NAME, MAX_LABEL_NAME_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS, MAX_NAME_LENGTH } from './names';

export const TypeParam = z.object({
  type: z.enum(METRIC_TYPES).openapi({ param: { name: 'type', in: 'path' }, example: 'counter' }),
});

export const RecordBody = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(MAX_NAME_LENGTH)
      .regex(GIVEN_NAME)
      .openapi({ example: 'custom.metric', description: 'Dots become underscores; the result must be a Prometheus metric name' }),
    value: z.number().optional().openapi({
      example: 1,
      description:
        'Counter: the increase (default 1, not negative). Gauge: the new value (or the change, with mode "add"). Histogram, summary: the observation. Timer: a duration in milliseconds.',
    }),
    labels: z
      .record(z.string().max(MAX_LABEL_NAME_LENGTH).regex(LABEL_NAME), z.string().max(MAX_LABEL_VALUE_LENGTH))
      .refine((l) => Object.keys(l).length <= MAX_LABELS, { message: `At most ${MAX_LABELS} labels` })
      .optional()
      .openapi({
        example: { region: 'eu' },
        description: `At most ${MAX_LABELS} labels; \`le\`, \`quantile\` and names starting \`__\` are reserved`,
      }),
    metric_type: z
      .enum(METRIC_TYPES)
      .optional()
      .openapi({ description: 'The original API sent the type in the body too; it must match the path' }),
    category: z
      .string()
      .max(50)
      .regex(/^[a-zA-Z0-9_.-]+$/)
      .optional()
      .openapi({ example: 'application' }),
    help: z.string().max(200).optional().openapi({ description: 'HELP text, kept from the first record of the metric' }),
    unit: z
      .string()
      .max(30)
      .regex(/^[a-zA-Z0-9_/%.-]+$/)
      .optional(),
    buckets: z
      .array(z.number())
      .min(1)
      .max(MAX_BUCKETS)
      .optional()
      .openapi({ description: 'Histogram or timer upper bounds (timers: in seconds), strictly increasing; fixed by the first record' }),
    mode: z.enum(['set', 'add']).optional().openapi({ description: 'Gauges: set the value (default) or add to it' }),
  })
  .openapi('MetricRecord');

export const RecordedSchema = z
  .object({
    name: z.string().openapi({ example: 'custom_metric_total', description: 'The name Prometheus sees' }),
    given_name: z.string(),
    type: z.enum(METRIC_TYPES),
    category: z.string(),
    labels: z.record(z.string(), z.string()),
    value: z.number().openapi({ description: 'The value recorded (timers: in seconds)' }),
    recorded_at: z.string(),
  })
  .openapi('MetricRecorded');

export const FamilySchema = z
  .object({
    name: z.string(),
    given_name: z.string(),
    type: z.enum(METRIC_TYPES),
    help: z.string(),
    unit: z.string().nullable(),
    category: z.string(),
    buckets: z.array(z.number()).nullable(),
  })
  .openapi('MetricFamily');

export const FamilyQuery = z.object({
  window_minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(43_200)
    .default(60)
    .openapi({ param: { name: 'window_minutes', in: 'query' }, description: 'Window ending now, in minutes (at most 30 days)' }),
});

export const FamilyNameParam = z.object({
  name: z
    .string()
    .max(MAX_NAME_LENGTH + 10)
    .openapi({
      param: { name: 'name', in: 'path' },
      example: 'custom_metric_total',
      description: 'The exposed name, or the name as given',
    }),
});

const nullableNumber = z.number().nullable();
export const WindowSeriesSchema = z
  .object({
    labels: z.record(z.string(), z.string()),
    count: z.number(),
    sum: z.number(),
    min: nullableNumber,
    max: nullableNumber,
    last: nullableNumber,
    last_at: z.string().nullable(),
    rate_per_second: z.number(),
    p50: nullableNumber,
    p95: nullableNumber,
    p99: nullableNumber,
  })
  .openapi('MetricWindowSeries');

export const FamilyDetailSchema = FamilySchema.extend({ window_minutes: z.number().int(), series: z.array(WindowSeriesSchema) }).openapi(
  'MetricFamilyDetail',
);

export const FamilyPageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: "Opaque cursor from a previous page's `next_cursor`" }),
});

export const OverviewQuery = z.object({
  window_minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(1440)
    .default(60)
    .openapi({ param: { name: 'window_minutes', in: 'query' }, description: 'HTTP traffic window ending now (at most 24 hours)' }),
});

const loose = z.record(z.string(), z.unknown());
export const OverviewSchema = z
  .object({
    generated_at: z.string(),
    window_minutes: z.number().int(),
    platform: z.object({ runtime: z.string(), host_metrics: z.string(), cpu_time: z.string(), memory: z.string() }),
    http: loose,
    workflows: loose,
    tasks: loose,
    schedules: loose,
    storage: loose,
  })
  .openapi('MetricsOverview');

export const ServiceStatsSchema = z
  .object({
    shards: z.number().int(),
    families: z.object({ total: z.number().int(), by_type: z.record(z.string(), z.number().int()) }),
    derived_families: z.number().int(),
    series: z.number().int(),
    points: z.object({ minute: z.number().int(), hour: z.number().int() }),
    storage_bytes: z.number(),
    retention: z.object({ minute_points_hours: z.number(), hour_points_days: z.number() }),
    limits: z.object({ series_per_family: z.number().int() }),
    summary_relative_accuracy: z.number(),
    last_compaction_at: z.string().nullable(),
  })
  .openapi('MetricsServiceStats');

export const ExportSchema = z
  .object({
    generated_at: z.string(),
    families: z.array(FamilySchema.extend({ derived: z.boolean(), series: z.array(loose) })),
  })
  .openapi('MetricsExport');
