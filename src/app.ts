import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { adminRoutes } from './admin/routes';
import { aiRoutes } from './ai/routes';
import { aiWorkflowRoutes } from './ai-workflows/routes';
import { analyticsRoutes, seedAnalyticsRoutes } from './analytics/routes';
import { auditRoutes } from './audit/routes';
import { automationRoutes } from './automations/routes';
import { cacheRoutes } from './cache/routes';
import { accountRoutes } from './auth/account-routes';
import { mfaRoutes } from './auth/mfa-routes';
import { authRoutes, securityAuthRoutes } from './auth/routes';
import { registrationRoutes } from './auth/registration-routes';
import { consoleRoutes } from './console/routes';
import { costRoutes } from './costs/routes';
import { getDb } from './db/client';
import { mountDocs } from './docs/routes';
import { healthRoutes, livenessRoutes } from './health/routes';
import { accessLog, corsFromEnv, errorHandler, limitBody, notFoundHandler, requireJsonBody, type UploadRoute } from './lib/middleware';
import { ipFilter, limitAuthRoutes } from './security/middleware';
import { createRouter } from './lib/openapi';
import { methodNotAllowed } from './lib/allowed-methods';
import { httpMetrics } from './metrics/http';
import { metricRoutes, prometheusRoutes } from './metrics/routes';
import { mlRoutes } from './ml/routes';
import { documentRoutes, runContinueRoutes } from './documents/routes';
import { knowledgeRoutes } from './knowledge/routes';
import { knowledgeSourceRoutes } from './knowledge/source-routes';
import { documentCitationRoutes } from './knowledge/citation-routes';
import { documentExportRoutes, exportRoutes, runExportRoutes } from './exports/routes';
import { realtimeRoutes } from './realtime/routes';
import { recommendationDataRoutes } from './recommendations/routes';
import { recommendationModelRoutes } from './recommendations/model-routes';
import { notificationRoutes } from './notifications/routes';
import { notificationChannelRoutes } from './notifications/channel-routes';
import { notificationSendRoutes } from './notifications/send-routes';
import { notificationSettingsRoutes } from './notifications/settings-routes';
import { schedulerRoutes } from './scheduler/routes';
import { siteRoutes } from './site/routes';
import { keyIpRuleRoutes } from './security/key-ip-routes';
import { policyRoutes } from './security/policy-routes';
import { securityRoutes } from './security/routes';
import { automationsTaskHandlers } from './automations/task-handler';
import { exportsTaskHandlers } from './exports/task-handler';
import { mlTaskHandlers } from './ml/task-handler';
import { notificationsTaskHandlers } from './notifications/task-handler';
import { runsTaskHandlers } from './runs/task-handler';
import type { PayloadSchemas, TaskHandlers } from './tasks';
import { taskRoutes } from './tasks/routes';
import { tasksTaskHandlers } from './tasks/task-handler';
import { executeRoutes, runRoutes } from './runs/routes';
import { workflowRoutes } from './workflows/routes';
import { workflowBulkRoutes } from './workflows/bulk-routes';
import { bundleSchemaRoutes, workflowBundleRoutes } from './workflows/bundle-routes';
import { workflowVersionRoutes } from './workflows/version-routes';
import { traceRoutes } from './traces/routes';
import { traceRequests } from './traces';
import { errorTrackingRoutes } from './errors-tracking/routes';
import { trackFaults } from './errors-tracking';
import { systemMail } from './notifications';
import { guard, noteRefusal } from './auth/middleware';

/**
 * Every task type's handler, from the feature that owns it; `satisfies` makes a missing type a
 * compile error. src/worker.ts installs them for the queue consumer; here their payload schemas
 * describe the submit bodies in /openapi.json.
 */
export const TASK_HANDLERS = {
  ...tasksTaskHandlers,
  ...runsTaskHandlers,
  ...notificationsTaskHandlers,
  ...mlTaskHandlers,
  ...automationsTaskHandlers,
  ...exportsTaskHandlers,
} satisfies TaskHandlers;
const TASK_PAYLOADS = Object.fromEntries(Object.entries(TASK_HANDLERS).map(([type, h]) => [type, h.payload])) as PayloadSchemas;

/**
 * The HTTP application. It imports no Durable Object class (only their types), so it can also
 * be loaded in Node, which the OpenAPI lint test does.
 */
const base = createRouter();

/** The routes that take file uploads (multipart/form-data, up to UPLOAD_MAX_BYTES). */
const UPLOADS: readonly UploadRoute[] = [
  { method: 'POST', path: /^\/api\/v3\/documents\/?$/ },
  { method: 'POST', path: /^\/api\/v3\/knowledge-bases\/\d+\/sources\/?$/ },
];

base.use(
  requestId({ limitLength: 64 }),
  traceRequests(),
  httpMetrics(),
  accessLog(),
  secureHeaders(),
  async function defaultCsp(c, next) {
    await next();
    // JSON responses need no content sources at all; HTML routes (the docs) set their own.
    if (!c.res.headers.has('content-security-policy'))
      c.res.headers.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  },
  corsFromEnv(),
  limitBody(UPLOADS),
  requireJsonBody(UPLOADS),
  async function services(c, next) {
    c.set('db', getDb(c.env.DB));
    c.set('guard', guard);
    await next();
  },
  ipFilter(),
  limitAuthRoutes(),
);

export const app = base
  .route('/', livenessRoutes)
  .route('/', siteRoutes)
  .route('/api/v3/health', healthRoutes)
  .route('/api/v3/auth', registrationRoutes(systemMail))
  .route('/api/v3/auth', authRoutes)
  .route('/api/v3/auth', mfaRoutes)
  .route('/api/v3/auth', accountRoutes(systemMail))
  .route('/api/v3/security', securityAuthRoutes)
  .route('/api/v3/security', securityRoutes)
  .route('/api/v3/security/audit', auditRoutes)
  .route('/api/v3/security', policyRoutes)
  .route('/api/v3/auth', keyIpRuleRoutes)
  .route('/api/v3/notifications', notificationRoutes)
  .route('/api/v3/notifications', notificationSendRoutes('canonical'))
  .route('/api/v3/advanced/notifications', notificationSendRoutes('seeds'))
  .route('/api/v3/notifications', notificationChannelRoutes)
  .route('/api/v3/notifications', notificationSettingsRoutes)
  // Before workflowRoutes: `/export` and `/import` must not be read as `/{id}`.
  .route('/api/v3/workflows', workflowBundleRoutes)
  .route('/api/v3/workflows', workflowRoutes)
  .route('/api/v3/workflows', workflowVersionRoutes)
  .route('/api/v3/workflows', workflowBulkRoutes)
  .route('/api/v3/schemas', bundleSchemaRoutes)
  .route('/api/v3/automations', automationRoutes)
  .route('/api/v3/workflows', runRoutes)
  .route('/api/v3/workflows', traceRoutes)
  .route('/api/v3/costs', costRoutes)
  .route('/api/v3/workflows', runContinueRoutes)
  .route('/api/v3/workflows', runExportRoutes)
  .route('/api/v3/documents', documentRoutes)
  .route('/api/v3/documents', documentExportRoutes)
  .route('/api/v3/documents', documentCitationRoutes)
  .route('/api/v3/exports', exportRoutes)
  .route('/api/v3/knowledge-bases', knowledgeRoutes)
  .route('/api/v3/knowledge-bases', knowledgeSourceRoutes)
  .route('/api/v3/advanced', executeRoutes)
  .route('/api/v3/ai', aiRoutes('canonical'))
  .route('/api/v3/advanced/ai', aiRoutes('seeds'))
  .route('/api/v3/ai-workflows', aiWorkflowRoutes)
  .route('/api/v3/ws', realtimeRoutes)
  .route('/api/v3/background', taskRoutes(TASK_PAYLOADS))
  .route('/api/v3/scheduler', schedulerRoutes)
  .route('/api/v3/analytics', analyticsRoutes)
  .route('/api/v3/advanced/analytics', seedAnalyticsRoutes)
  .route('/api/v3/cache', cacheRoutes('canonical'))
  .route('/api/v3/advanced/cache', cacheRoutes('seeds'))
  .route('/api/v3/metrics', metricRoutes)
  .route('/api/v3/ml', mlRoutes)
  .route('/', prometheusRoutes)
  .route('/api/v3/recommendations', recommendationDataRoutes)
  .route('/api/v3/recommendations', recommendationModelRoutes)
  .route('/api/v3/admin', errorTrackingRoutes)
  // The registry is `base`'s (the same app): reading it through `app` would make app's type circular.
  .route(
    '/api/v3/admin',
    adminRoutes(() => base.openAPIRegistry.definitions),
  )
  .route('/console', consoleRoutes);

mountDocs(app);
app.onError(trackFaults(errorHandler({ onRefused: noteRefusal })));
// A known path asked with another method answers 405 with Allow; an unknown one 404.
app.notFound(methodNotAllowed(() => app.routes, notFoundHandler));

/** For typed clients: `hc<AppType>('https://…')` from `hono/client`. */
export type AppType = typeof app;
