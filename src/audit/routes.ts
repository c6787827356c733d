import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, pageOf, toPage } from '../lib/pagination';
import { auditInsert } from '../lib/audit';
import { auditChain } from './rpc';
import { exportStream } from './export';
import { entryView, filterOf, listEntries } from './queries';
import { complianceReport, reportCsv } from './report';
import { DAY_MS } from './retention';
import {
  AuditEntrySchema,
  ExportQuery,
  LogsQuery,
  ReportQuery,
  ReportSchema,
  RetentionBody,
  RetentionResultSchema,
  VerifySchema,
} from './schemas';
import { requestMeta } from '../lib/context';

const read = { roles: ADMINS, scope: 'security:read' } as const;
const admin = { roles: ADMINS, scope: 'security:admin' } as const;
const tags = ['audit'];

const SEALS_FIRST = 'Entries written since the last seal are sealed first (the cron tick seals every minute otherwise).';

function period(from: number | undefined, to: number | undefined, defaultDays: number | null) {
  const end = to ?? (defaultDays === null ? undefined : Date.now());
  const start = from ?? (defaultDays === null || end === undefined ? undefined : end - defaultDays * DAY_MS);
  if (start !== undefined && end !== undefined && start > end) {
    throw new ApiError('validation_error', 'Request validation failed', {
      details: [{ path: ['from'], code: 'custom', message: '`from` is after `to`' }],
    });
  }
  return { from: start, to: end };
}

const attachment = (name: string, format: 'json' | 'csv') => ({
  'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
  'content-disposition': `attachment; filename="${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}"`,
  'cache-control': 'no-store',
});

export const auditRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/logs',
        operationId: 'listAuditLogs',
        tags,
        summary: "Audit entries, newest first (admin; the seeds' path)",
        description: `Filters: acting user, action (exact, or a family such as \`auth.*\`), target type and id, outcome, time range. Each entry carries its chain hashes and whether it is sealed yet. ${SEALS_FIRST}`,
        request: { query: LogsQuery },
        responses: {
          200: jsonResponse(pageOf(AuditEntrySchema, 'AuditEntryPage'), 'A page of entries'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const { from, to } = period(q.from, q.to, null);
      const before = decodeCursor(q.cursor);
      await auditChain(c.env).seal();
      return c.json(toPage(await listEntries(c.var.db, { ...filterOf(q), from, to }, q.limit, before), q.limit, entryView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/verify',
        operationId: 'verifyAuditChain',
        tags,
        summary: 'Verify the audit hash chain (admin)',
        description: `Recomputes every retained entry's hash from the latest retention checkpoint, checks each links to the one before, that no id is missing, and that the last entry is the head kept by the sealer outside D1. ${SEALS_FIRST}`,
        responses: { 200: jsonResponse(VerifySchema, 'The verification result; `valid: false` names the first problem') },
      }),
    ),
    async (c) => c.json(await auditChain(c.env).verify(), 200),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/export',
        operationId: 'exportAuditLogs',
        tags,
        summary: 'Export audit entries as JSON or CSV (admin)',
        description: `The same filters as /logs, oldest first, streamed as an attachment. CSV follows RFC 4180; cells that a spreadsheet would run as a formula get a leading apostrophe. The export itself is audited. ${SEALS_FIRST}`,
        request: { query: ExportQuery },
        responses: {
          200: {
            description: 'A JSON array or a CSV file of entries',
            content: { 'application/json': { schema: z.array(AuditEntrySchema) }, 'text/csv': { schema: z.string() } },
          },
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const filter = { ...filterOf(q), ...period(q.from, q.to, null) };
      const db = c.var.db;
      await auditChain(c.env).seal();
      const given = Object.fromEntries(Object.entries(q).filter(([k, v]) => k !== 'format' && v !== undefined));
      await auditInsert(db, requestMeta(c), {
        action: 'audit.export',
        targetType: 'audit_log',
        details: { format: q.format, filter: given },
      }).run();
      return new Response(await exportStream(db, filter, q.format), { status: 200, headers: attachment('audit', q.format) });
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/report',
        operationId: 'auditComplianceReport',
        tags,
        summary: 'Compliance report over a period (admin)',
        description: `Admin actions by actor and action, access to each resource by type, resource and actor, failed logins by login name and IP, security events by type and severity, and the chain verification. Every figure is counted from stored rows. Default period: the 30 days up to now. ${SEALS_FIRST}`,
        request: { query: ReportQuery },
        responses: {
          200: { description: 'The report', content: { 'application/json': { schema: ReportSchema }, 'text/csv': { schema: z.string() } } },
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const { from, to } = period(q.from, q.to, 30);
      const chain = await auditChain(c.env).verify();
      const report = await complianceReport(c.var.db, from!, to!, chain);
      if (q.format === 'csv') return new Response(reportCsv(report), { status: 200, headers: attachment('audit-report', 'csv') });
      return c.json(report, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'post',
        path: '/retention',
        operationId: 'applyAuditRetention',
        tags,
        summary: 'Remove old audit entries behind a checkpoint (admin)',
        description:
          'Seals pending entries, then removes sealed entries older than `older_than_days` (at most 10,000 per call; `more` says when to call again). A checkpoint records the id and hash of the last removed entry, so the remaining chain still verifies. Refused (409) when the entries to remove do not verify: retention never erases evidence of tampering. Audited.',
        request: { body: jsonBody(RetentionBody) },
        responses: { 200: jsonResponse(RetentionResultSchema, 'What was removed'), ...errorResponses('validation_error', 'conflict') },
      }),
    ),
    async (c) => {
      const days = c.req.valid('json').older_than_days;
      const outcome = await auditChain(c.env).retain(Date.now() - days * DAY_MS, requestMeta(c), {
        reason: `admin request: older than ${days} days`,
        auditNoop: true,
      });
      if (!outcome.ok)
        throw new ApiError('conflict', 'The audit entries to remove do not verify; nothing was removed', {
          details: { first_invalid: outcome.first_invalid },
        });
      return c.json(outcome.result, 200);
    },
  );
