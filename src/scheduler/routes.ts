import { createRoute, z } from '@hono/zod-openapi';
import { auditIfChanged } from '../lib/audit';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { fireOnce, timingOf } from './fire';
import {
  createSchedule,
  deleteSchedule,
  listFires,
  listSchedules,
  ownedSchedule,
  scheduleView,
  setScheduleState,
  updateSchedule,
  type Kind,
} from './queries';
import {
  CronBody,
  DailyBody,
  FireSchema,
  IntervalBody,
  MonthlyBody,
  PatchBody,
  PreviewBody,
  PreviewQuery,
  PreviewSchema,
  ScheduleIdParam,
  ScheduleSchema,
  WeeklyBody,
} from './schemas';
import { scheduleStats } from './stats';
import { cronProblem, preview } from './timing';
import { StatsQuery } from '../tasks';
import { requestMeta } from '../lib/context';

const read = { roles: ANY_ROLE, scope: 'schedules:read' } as const;
const write = { roles: WRITERS, scope: 'schedules:write' } as const;
const tags = ['schedules'];

/** A fire time as UTC and as wall-clock time in the schedule's zone, with its offset. */
function localTime(ms: number, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
const fires = (times: number[], tz: string) => times.map((t) => ({ at: new Date(t).toISOString(), local: localTime(t, tz) }));

const StatsSchema = z
  .object({
    scope: z.enum(['mine', 'all']),
    window_hours: z.number().int(),
    schedules: z.object({
      total: z.number().int(),
      by_state: z.record(z.string(), z.number().int()),
      by_kind: z.record(z.string(), z.number().int()),
      auto_paused: z.number().int(),
      failing: z.number().int(),
    }),
    fires: z.object({ total: z.number().int(), by_outcome: z.record(z.string(), z.number().int()) }),
    lateness_ms: z.object({
      samples: z.number().int(),
      mean: z.number().nullable(),
      p50: z.number().nullable(),
      p99: z.number().nullable(),
    }),
    failures: z.object({ fires_failed: z.number().int(), schedules_failing: z.number().int(), schedules_auto_paused: z.number().int() }),
  })
  .openapi('ScheduleStats');

const createErrors = errorResponses('validation_error', 'not_found');

const create = <K extends Kind, B extends z.ZodType>(kind: K, body: B, summary: string) =>
  createRoute(
    withAccess(write, {
      method: 'post',
      path: `/schedules/${kind}` as `/schedules/${K}`,
      operationId: `create${kind[0]!.toUpperCase()}${kind.slice(1)}Schedule`,
      tags,
      summary,
      request: { body: jsonBody(body) },
      responses: { 201: jsonResponse(ScheduleSchema, 'Created and armed'), ...createErrors },
    }),
  );

const stateRoute = <A extends 'pause' | 'resume'>(action: A, summary: string) =>
  createRoute(
    withAccess(write, {
      method: 'post',
      path: `/schedules/{id}/${action}` as `/schedules/{id}/${A}`,
      operationId: `${action}Schedule`,
      tags,
      summary,
      request: { params: ScheduleIdParam },
      responses: { 200: jsonResponse(ScheduleSchema, 'The schedule'), ...errorResponses('validation_error', 'not_found', 'conflict') },
    }),
  );

export const schedulerRoutes = createRouter()
  .openapi(create('cron', CronBody, 'Create a cron schedule (5 fields, or 6 with seconds first) in a time zone'), async (c) =>
    c.json(scheduleView(await createSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, 'cron', c.req.valid('json'))), 201),
  )
  .openapi(create('interval', IntervalBody, 'Create a schedule that fires every N seconds'), async (c) =>
    c.json(
      scheduleView(await createSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, 'interval', c.req.valid('json'))),
      201,
    ),
  )
  .openapi(create('daily', DailyBody, 'Create a schedule that fires every day at a time of day'), async (c) =>
    c.json(scheduleView(await createSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, 'daily', c.req.valid('json'))), 201),
  )
  .openapi(create('weekly', WeeklyBody, 'Create a schedule that fires on weekdays at a time of day'), async (c) =>
    c.json(scheduleView(await createSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, 'weekly', c.req.valid('json'))), 201),
  )
  .openapi(create('monthly', MonthlyBody, 'Create a schedule that fires on a day of the month at a time of day'), async (c) =>
    c.json(
      scheduleView(await createSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, 'monthly', c.req.valid('json'))),
      201,
    ),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'post',
        path: '/schedules/preview',
        operationId: 'previewCron',
        tags,
        summary: 'The next fire times of a cron expression in a time zone (nothing is stored)',
        request: { body: jsonBody(PreviewBody) },
        responses: { 200: jsonResponse(PreviewSchema, 'Next fires'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const b = c.req.valid('json');
      const problem = cronProblem(b.cron_expression, b.timezone);
      if (problem)
        throw new ApiError('validation_error', 'Request validation failed', {
          details: [{ path: ['cron_expression'], code: 'custom', message: `invalid cron expression: ${problem}` }],
        });
      const timing = { kind: 'cron', cronExpression: b.cron_expression, everySeconds: null, anchorAt: null, timezone: b.timezone };
      return c.json(
        {
          timezone: b.timezone,
          cron_expression: b.cron_expression,
          fires: fires(preview(timing, b.from ? Date.parse(b.from) : Date.now(), b.count), b.timezone),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/schedules',
        operationId: 'listSchedules',
        tags,
        summary: 'Your schedules, newest first',
        request: { query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(ScheduleSchema, 'SchedulePage'), 'A page of schedules'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(toPage(await listSchedules(c.var.db, c.var.principal.userId, limit, decodeCursor(cursor)), limit, scheduleView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/schedules/{id}',
        operationId: 'getSchedule',
        tags,
        summary: 'A schedule',
        request: { params: ScheduleIdParam },
        responses: { 200: jsonResponse(ScheduleSchema, 'The schedule'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => c.json(scheduleView(await ownedSchedule(c.var.db, c.var.principal.userId, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'patch',
        path: '/schedules/{id}',
        operationId: 'updateSchedule',
        tags,
        summary: 'Change a schedule (timing changes re-arm it from now)',
        request: { params: ScheduleIdParam, body: jsonBody(PatchBody) },
        responses: { 200: jsonResponse(ScheduleSchema, 'Updated'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) =>
      c.json(
        scheduleView(
          await updateSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id, c.req.valid('json')),
        ),
        200,
      ),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/schedules/{id}',
        operationId: 'deleteSchedule',
        tags,
        summary: 'Delete a schedule and its fire history (tasks it started keep running)',
        request: { params: ScheduleIdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      await deleteSchedule(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id);
      return c.newResponse(null, 204);
    },
  )
  .openapi(stateRoute('pause', 'Pause a schedule'), async (c) =>
    c.json(
      scheduleView(await setScheduleState(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id, 'paused')),
      200,
    ),
  )
  .openapi(stateRoute('resume', 'Resume a schedule from its next fire after now'), async (c) =>
    c.json(
      scheduleView(await setScheduleState(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id, 'active')),
      200,
    ),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/schedules/{id}/trigger',
        operationId: 'triggerSchedule',
        tags,
        summary: 'Fire now, once (the overlap policy applies)',
        request: { params: ScheduleIdParam },
        responses: { 201: jsonResponse(FireSchema, 'The fire'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const s = await ownedSchedule(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      const now = Date.now();
      // Audited only if the fire (and its task) was written: the statement before it changed a row.
      const audit = auditIfChanged(c.var.db, requestMeta(c), { action: 'schedule.trigger', targetType: 'schedule', targetId: s.id });
      const fire = await fireOnce(c.env, c.var.db, s, now, { manual: true, source: 'manual', now }, [audit]);
      if (!fire) throw new ApiError('conflict', 'The schedule was triggered at this same instant already');
      const [view] = await listFires(c.var.db, s.id, 1, fire.id + 1);
      return c.json(view!.view, 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/schedules/{id}/preview',
        operationId: 'previewSchedule',
        tags,
        summary: 'The next N fire times of a schedule (DST-correct, in its time zone)',
        request: { params: ScheduleIdParam, query: PreviewQuery },
        responses: { 200: jsonResponse(PreviewSchema, 'Next fires'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const s = await ownedSchedule(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      const q = c.req.valid('query');
      return c.json(
        {
          timezone: s.timezone,
          cron_expression: s.cronExpression,
          fires: fires(preview(timingOf(s), q.from ? Date.parse(q.from) : Date.now(), q.count), s.timezone),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/schedules/{id}/fires',
        operationId: 'listScheduleFires',
        tags,
        summary: "Fire history, newest first, with each fire's outcome and task",
        request: { params: ScheduleIdParam, query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(FireSchema, 'ScheduleFirePage'), 'A page of fires'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const s = await ownedSchedule(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      const { limit, cursor } = c.req.valid('query');
      return c.json(
        toPage(await listFires(c.var.db, s.id, limit, decodeCursor(cursor)), limit, (r) => r.view),
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/service/stats',
        operationId: 'schedulerServiceStats',
        tags,
        summary: 'Schedules by state, fires by outcome, lateness p50/p99, failures',
        request: { query: StatsQuery },
        responses: { 200: jsonResponse(StatsSchema, 'Counted from stored schedules and fires'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      if (q.scope === 'all' && c.var.principal.role !== 'admin') throw new ApiError('forbidden', 'Service-wide statistics are for admins');
      return c.json(await scheduleStats(c.var.db, q.scope === 'all' ? null : c.var.principal.userId, q.window_hours), 200);
    },
  );
