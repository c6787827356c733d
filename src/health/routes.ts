import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { type Access, ADMINS } from '../lib/access';
import { isDevelopment, VERSION } from '../lib/config';
import type { AppEnv } from '../lib/context';
import { constantTimeEqual, sha256Hex } from '../lib/crypto';
import { bearerSecurity, createRouter, jsonResponse, withAccess } from '../lib/openapi';
import { READINESS_CACHE_MS, readiness } from './checks';

const Check = z.object({ status: z.enum(['pass', 'fail']), latency_ms: z.number(), detail: z.string().optional() }).openapi('HealthCheck');
const Health = z
  .object({
    status: z.enum(['healthy', 'unhealthy']),
    environment: z.enum(['development', 'production']).openapi({ description: 'development only with ENVIRONMENT=development' }),
    ai: z.object({
      provider: z.string().openapi({ description: 'Default provider (AI_PROVIDER)' }),
      chain: z.array(z.string()).openapi({ description: 'Default provider, then fallbacks' }),
      configured: z.record(z.string(), z.boolean()),
      models: z
        .record(
          z.string(),
          z.object({
            model: z.string(),
            status: z.enum(['active', 'deprecated', 'retired', 'unknown']),
            retires: z.string().optional(),
            replacement: z.string().optional(),
            warning: z.string().optional().openapi({ description: 'Set when the model is retired or deprecated: what to change' }),
          }),
        )
        .openapi({ description: 'Each configured provider: the model it calls by default and its lifecycle in the model catalogue' }),
      catalogue: z.object({
        checked: z.string().openapi({ description: "Date the built-in catalogue was checked against the providers' documentation" }),
        problem: z.string().optional().openapi({ description: 'Why the AI_MODELS corrections were not applied' }),
      }),
    }),
    checks: z.object({ d1: Check, kv: Check, durable_objects: Check, queue: Check, secrets: Check }),
    time: z.string(),
  })
  .openapi('Health');
const Liveness = z.object({ status: z.literal('ok'), version: z.string(), time: z.string() }).openapi('Liveness');

export const livenessRoutes = createRouter().openapi(
  createRoute({
    method: 'get',
    path: '/health',
    operationId: 'liveness',
    tags: ['health'],
    security: [],
    summary: 'Liveness: answers without touching any binding',
    responses: { 200: jsonResponse(Liveness, 'Alive') },
  }),
  (c) => c.json({ status: 'ok' as const, version: VERSION, time: new Date().toISOString() }, 200),
);

/** Administrators, or their API keys with `security:read`; a monitor uses the secret header instead. */
const READINESS: Access = { roles: ADMINS, scope: 'security:read' };

/**
 * Whether the request carries `X-Health-Secret` equal to the HEALTH_CHECK_SECRET secret. Unset,
 * shorter than 32 characters, or a development value outside development: the header opens
 * nothing, and the caller must be an administrator.
 */
async function monitorSecret(env: Env, presented: string | undefined): Promise<boolean> {
  const configured = env.HEALTH_CHECK_SECRET ?? '';
  if (!presented || configured.length < 32 || (!isDevelopment(env) && configured.startsWith('dev-only-'))) return false;
  const [a, b] = await Promise.all([sha256Hex(configured), sha256Hex(presented)]);
  return constantTimeEqual(new TextEncoder().encode(a), new TextEncoder().encode(b));
}

const monitorOrAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (await monitorSecret(c.env, c.req.header('x-health-secret'))) return next();
  return c.var.guard(READINESS)(c, next);
};

const readinessRoute = withAccess(
  READINESS,
  createRoute({
    method: 'get',
    path: '/',
    operationId: 'readiness',
    tags: ['health'],
    summary: 'Readiness: checks D1, KV, Durable Objects, the queue producer and secrets (administrators or X-Health-Secret)',
    description:
      'For administrators (API keys need `security:read`) or a monitor sending `X-Health-Secret` equal to the `HEALTH_CHECK_SECRET` secret. ' +
      'One report is answered for 15 seconds per isolate (`time` says when it was checked), so probing it costs at most one round of checks per isolate in that time. ' +
      'The public liveness probe is `GET /health`.',
    responses: { 200: jsonResponse(Health, 'All checks pass'), 503: jsonResponse(Health, 'At least one check failed') },
  }),
);

export const healthRoutes = createRouter().openapi(
  { ...readinessRoute, middleware: monitorOrAdmin, security: [...bearerSecurity, { healthSecret: [] }] },
  async (c) => {
    const report = await readiness(c.env);
    c.header('Cache-Control', `private, max-age=${READINESS_CACHE_MS / 1000}`);
    return report.status === 'healthy' ? c.json(report, 200) : c.json(report, 503);
  },
);
