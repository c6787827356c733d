import { z } from '@hono/zod-openapi';
import { oneOfRequired } from '../lib/openapi';
import { jsonObject } from '../lib/json';
import { FIRE_OUTCOMES, OVERLAP_POLICIES, SCHEDULE_KINDS, TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES } from '../db/schema';
import { validTimezone, WEEKDAYS } from './timing';

const Priority = z.enum(TASK_PRIORITIES).default('normal');
const Timeout = z.number().int().min(1).max(86_400).optional().openapi({ description: "The task's time budget in seconds (default 300)" });

/** What a fire starts. Either way it runs as a background task, with the task layer's retries. */
export const ScheduleTarget = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('workflow'),
        workflow_id: z.number().int().positive(),
        input: jsonObject().default({}),
        priority: Priority,
        timeout_seconds: Timeout,
      })
      .strict(),
    z
      .object({
        type: z.literal('task'),
        task_type: z.enum(TASK_TYPES),
        payload: jsonObject().default({}),
        priority: Priority,
        timeout_seconds: Timeout,
      })
      .strict(),
  ])
  .openapi('ScheduleTarget', {
    description: 'A workflow to run with an input, or a background task. Without one, fires are only recorded.',
  });
export type ScheduleTarget = z.infer<typeof ScheduleTarget>;

export const Timezone = z
  .string()
  .min(1)
  .max(64)
  .refine(validTimezone, 'not an IANA time zone (for example Europe/Madrid or America/New_York)')
  .openapi({ example: 'Europe/Madrid' });

const TimeOfDay = z
  .string()
  .max(8)
  .regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'a time of day, HH:MM or HH:MM:SS (24-hour)')
  .openapi({ example: '09:30' });
const Weekday = z.enum(WEEKDAYS);
const DayOfMonth = z
  .union([z.number().int().min(1).max(31), z.literal('last')])
  .openapi({ description: '1–31 (months without that day are skipped) or "last"' });

const policies = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  timezone: Timezone.default('UTC'),
  target: ScheduleTarget.optional(),
  overlap: z
    .enum(OVERLAP_POLICIES)
    .default('skip')
    .openapi({ description: "When a fire comes while the previous one's task is still running" }),
  jitter_seconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(0)
    .openapi({ description: 'Each fire starts up to this much later (spreads load)' }),
  catch_up_seconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(600)
    .openapi({ description: 'After downtime, missed fires younger than this are run (backfill); older ones are recorded as missed' }),
  max_retries: z.number().int().min(0).max(10).default(3).openapi({ description: "Retries of each fire's task, with exponential backoff" }),
  pause_after_failures: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'Pause the schedule after this many consecutive failed fires' }),
};

export const CronBody = z
  .object({
    ...policies,
    cron_expression: z.string().trim().min(1).max(120).openapi({ example: '0 2 * * *', description: '5 fields, or 6 with seconds first' }),
  })
  .strict()
  .openapi('CronScheduleCreate');
export const IntervalBody = z
  .object({
    ...policies,
    every_seconds: z
      .number()
      .int()
      .min(10)
      .max(366 * 86_400),
    start_at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'First fire (default: one interval from now)' }),
  })
  .strict()
  .openapi('IntervalScheduleCreate');
export const DailyBody = z
  .object({ ...policies, time: TimeOfDay })
  .strict()
  .openapi('DailyScheduleCreate');
export const WeeklyBody = z
  .object({ ...policies, time: TimeOfDay, weekday: Weekday.optional(), weekdays: z.array(Weekday).min(1).max(7).optional() })
  .strict()
  .refine((b) => (b.weekday === undefined) !== (b.weekdays === undefined), {
    message: 'give weekday or weekdays (one of them)',
    path: ['weekdays'],
  })
  .openapi('WeeklyScheduleCreate', oneOfRequired('weekday', 'weekdays'));
export const MonthlyBody = z
  .object({ ...policies, time: TimeOfDay, day_of_month: DayOfMonth })
  .strict()
  .openapi('MonthlyScheduleCreate');

export const PatchBody = z
  .object({
    name: policies.name.optional(),
    description: z.string().max(2000).nullable().optional(),
    timezone: Timezone.optional(),
    target: ScheduleTarget.nullable().optional(),
    overlap: z.enum(OVERLAP_POLICIES).optional(),
    jitter_seconds: z.number().int().min(0).max(3600).optional(),
    catch_up_seconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .optional(),
    max_retries: z.number().int().min(0).max(10).optional(),
    pause_after_failures: z.number().int().min(1).max(100).nullable().optional(),
    cron_expression: z.string().trim().min(1).max(120).optional(),
    every_seconds: z
      .number()
      .int()
      .min(10)
      .max(366 * 86_400)
      .optional(),
    time: TimeOfDay.optional(),
    weekdays: z.array(Weekday).min(1).max(7).optional(),
    day_of_month: DayOfMonth.optional(),
  })
  .strict()
  .openapi('ScheduleUpdate', { description: "Timing fields must match the schedule's kind" });
export type PatchBody = z.infer<typeof PatchBody>;

export const PreviewBody = z
  .object({
    cron_expression: z.string().trim().min(1).max(120),
    timezone: Timezone.default('UTC'),
    count: z.number().int().min(1).max(100).default(10),
    from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Start after this instant (default: now)' }),
  })
  .strict()
  .openapi('CronPreviewRequest');

export const PreviewQuery = z.object({
  count: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .openapi({ param: { name: 'count', in: 'query' }, example: 10 }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'from', in: 'query' }, description: 'Start after this instant (default: now)' }),
});

export const PreviewSchema = z
  .object({ timezone: z.string(), cron_expression: z.string().nullable(), fires: z.array(z.object({ at: z.string(), local: z.string() })) })
  .openapi('SchedulePreview');

const iso = z.string().openapi({ format: 'date-time' });

export const ScheduleSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    description: z.string().nullable(),
    kind: z.enum(SCHEDULE_KINDS),
    cron_expression: z.string().nullable(),
    every_seconds: z.number().int().nullable(),
    start_at: iso.nullable(),
    time: z.string().nullable(),
    weekdays: z.array(z.string()).nullable(),
    day_of_month: z.union([z.number(), z.literal('last')]).nullable(),
    timezone: z.string(),
    target: z.unknown().nullable(),
    overlap: z.enum(OVERLAP_POLICIES),
    jitter_seconds: z.number().int(),
    catch_up_seconds: z.number().int(),
    max_retries: z.number().int(),
    pause_after_failures: z.number().int().nullable(),
    state: z.enum(['active', 'paused']),
    paused_reason: z.string().nullable(),
    consecutive_failures: z.number().int(),
    next_fire_at: iso.nullable(),
    last_fire_at: iso.nullable(),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('Schedule');

export const FireSchema = z
  .object({
    id: z.number().int(),
    schedule_id: z.number().int(),
    fire_at: iso,
    due_at: iso,
    fired_at: iso,
    lateness_ms: z.number().int().openapi({ description: 'How long after its due time (fire time plus jitter) the fire happened' }),
    manual: z.boolean(),
    source: z.enum(['alarm', 'cron', 'manual', 'buffer']),
    outcome: z.enum(FIRE_OUTCOMES),
    detail: z.unknown().nullable(),
    task: z.object({ id: z.number().int(), status: z.enum(TASK_STATUSES), error: z.string().nullable() }).nullable(),
  })
  .openapi('ScheduleFire');

export const ScheduleIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
});
