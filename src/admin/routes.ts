import { createRoute } from '@hono/zod-openapi';
import { registrationSettings, saveRegistrationSettings } from '../auth';
import { purgeExpired, purgeRunStorage } from '../security';
import { ADMINS } from '../lib/access';
import { auditInsert } from '../lib/audit';
import { requestMeta } from '../lib/context';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { log } from '../lib/log';
import { effectiveConfig } from './config';
import { adminOperations } from './operations';
import { rebuildSearchIndexes } from './queries';
import { AdminConfig, AdminConfigPatch, AdminIndex, PurgeResult, ReindexResult } from './schemas';

const read = { roles: ADMINS, scope: 'security:read' } as const;
// The registration policy is users' business: the same scope as PUT /api/v3/auth/registration.
const configure = { roles: ADMINS, scope: 'users:admin' } as const;
const maintain = { roles: ADMINS, scope: 'security:admin' } as const;
const tags = ['admin'];

/**
 * `/api/v3/admin`: the administrators' surface — an index of what only they may do, the
 * effective configuration, and maintenance run on demand. `definitions` is the app's OpenAPI
 * registry, read when the index is asked for (src/app.ts passes it; by then every route is in).
 */
export function adminRoutes(definitions: () => readonly unknown[]) {
  let index: ReturnType<typeof adminOperations> | null = null;
  return createRouter()
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/',
          operationId: 'adminIndex',
          tags,
          summary: 'Every operation only administrators may call, with the API-key scope each needs',
          responses: { 200: jsonResponse(AdminIndex, 'The operations, by path') },
        }),
      ),
      (c) => {
        // Routes never change after start-up: read once per isolate.
        index ??= adminOperations(definitions());
        return c.json({ operations: index }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/config',
          operationId: 'getAdminConfig',
          tags,
          summary: 'The effective configuration: settings in force, which secrets are set (never their values), the AI chain',
          responses: { 200: jsonResponse(AdminConfig, 'The configuration in force') },
        }),
      ),
      async (c) => {
        c.header('Cache-Control', 'no-store');
        return c.json(await effectiveConfig(c.env, c.var.db), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(configure, {
          method: 'patch',
          path: '/config',
          operationId: 'updateAdminConfig',
          tags,
          summary: 'Change the settings editable at run time (the registration policy); the rest is set at deploy time',
          description:
            'Only the sections listed in `editable` can change; a field left out keeps its value. The change is audited (`auth.registration_settings`) in the same write. An empty body changes nothing.',
          request: { body: jsonBody(AdminConfigPatch) },
          responses: { 200: jsonResponse(AdminConfig, 'The configuration now in force'), ...errorResponses('validation_error') },
        }),
      ),
      async (c) => {
        const patch = c.req.valid('json');
        if (patch.registration && Object.keys(patch.registration).length > 0) {
          const { source: _, ...current } = await registrationSettings(c.env, c.var.db);
          await saveRegistrationSettings(c.var.db, requestMeta(c), { ...current, ...patch.registration });
        }
        c.header('Cache-Control', 'no-store');
        return c.json(await effectiveConfig(c.env, c.var.db), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(maintain, {
          method: 'post',
          path: '/maintenance/purge',
          operationId: 'runPurge',
          tags,
          summary: 'Run the retention purge now (the cron runs it hourly): expired credentials, old records, emptied run storage',
          description:
            'One pass of every retention rule (docs/security.md lists them), at most 5,000 rows per table; run it again if a count reached that. What was deleted is answered and audited (`admin.purge`).',
          responses: { 200: jsonResponse(PurgeResult, 'What was deleted') },
        }),
      ),
      async (c) => {
        const now = Date.now();
        // The cron's job (src/security/cron.ts), minus its "once an hour" gate.
        const deleted = { ...(await purgeExpired(c.env, now)), run_objects: await purgeRunStorage(c.env) };
        const total = Object.values(deleted).reduce((a, n) => a + n, 0);
        // After the fact, not in the same batch: the purge is many statements, and each only
        // removes what retention would remove anyway, so an audit write that failed loses no data.
        await auditInsert(c.var.db, requestMeta(c), {
          action: 'admin.purge',
          targetType: 'maintenance',
          targetId: 'retention',
          details: deleted,
        });
        log(c.env.LOG_LEVEL, 'info', 'retention purge (on demand)', { requestId: c.get('requestId'), ...deleted });
        return c.json({ deleted, total, ran_at: new Date(now).toISOString() }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(maintain, {
          method: 'post',
          path: '/maintenance/reindex',
          operationId: 'rebuildSearchIndexes',
          tags,
          summary: 'Rebuild the full-text search indexes (documents, knowledge-base chunks) from their tables',
          description:
            'Triggers keep the indexes in step with every write; a rebuild repairs one that drifted (rows written around the triggers, a restored backup). Audited (`admin.reindex`).',
          responses: { 200: jsonResponse(ReindexResult, 'The indexes rebuilt, with their row counts') },
        }),
      ),
      async (c) => {
        const indexes = await rebuildSearchIndexes(c.var.db, requestMeta(c));
        return c.json({ indexes, ran_at: new Date().toISOString() }, 200);
      },
    );
}
