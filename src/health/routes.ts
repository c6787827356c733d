import { createRoute, z } from '@hono/zod-openapi';
import { VERSION } from '../lib/config';
import { createRouter, jsonResponse } from '../lib/openapi';
import { runHealthChecks } from './checks';

const Check = z.object({ status: z.enum(['pass', 'fail']), latency_ms: z.number(), detail: z.string().optional() }).openapi('HealthCheck');
const Health = z
  .object({
    status: z.enum(['healthy', 'unhealthy']),
    environment: z.string(),
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

export const healthRoutes = createRouter().openapi(
  createRoute({
    method: 'get',
    path: '/',
    operationId: 'readiness',
    tags: ['health'],
    security: [],
    summary: 'Readiness: checks D1, KV, Durable Objects, the queue producer and secrets',
    responses: { 200: jsonResponse(Health, 'All checks pass'), 503: jsonResponse(Health, 'At least one check failed') },
  }),
  async (c) => {
    const report = await runHealthChecks(c.env);
    return report.status === 'healthy' ? c.json(report, 200) : c.json(report, 503);
  },
);
