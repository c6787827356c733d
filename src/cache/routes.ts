import { createRoute, z } from '@hono/zod-openapi';
import { auditInsert } from '../lib/audit';
import { ADMINS } from '../lib/access';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { clearCache } from './invalidate';
import { NAMESPACE_NAMES } from './namespaces';
import { readStats } from './stats';
import { TIERS } from './tier';
import { requestMeta } from '../lib/context';

const admin = { roles: ADMINS, scope: 'cache:admin' } as const;
const tags = ['cache'];

const Tally = {
  hits: z.number().int(),
  misses: z.number().int(),
  hit_ratio: z.number().nullable().openapi({ description: 'hits ÷ (hits + misses); null before the first lookup' }),
};

const StatsSchema = z
  .object({
    totals: z.object(Tally),
    namespaces: z.array(
      z.object({
        namespace: z.enum(NAMESPACE_NAMES),
        ttl_seconds: z.number().int(),
        ...Tally,
        tiers: z.array(z.object({ tier: z.enum(TIERS), ...Tally })),
      }),
    ),
  })
  .openapi('CacheStats');

const Namespace = z.enum(NAMESPACE_NAMES);
const ClearBody = z
  .discriminatedUnion('scope', [
    z.strictObject({ scope: z.literal('all') }),
    z.strictObject({ scope: z.literal('namespace'), namespace: Namespace }),
    z.strictObject({ scope: z.literal('prefix'), namespace: Namespace, prefix: z.string().min(1).max(200) }),
    z.strictObject({ scope: z.literal('key'), namespace: Namespace, key: z.string().min(1).max(300) }),
    z.strictObject({
      scope: z.literal('tag'),
      tag: z
        .string()
        .regex(/^[a-z0-9_.:-]{1,100}$/, 'lowercase letters, digits, "_", ".", ":" and "-", at most 100')
        .max(100),
    }),
  ])
  .openapi('CacheClearRequest', { example: { scope: 'tag', tag: 'workflow:42' } });

const Count = z.number().int().nullable();
const ClearedSchema = z
  .object({
    cleared: z.object({ memory: Count, kv: Count, edge: Count }).openapi({
      description:
        'Entries removed per tier. memory: this isolate only. edge: null when the Cache API cannot be enumerated (prefix, tag, namespace clears).',
    }),
  })
  .openapi('CacheCleared');

/** Mounted at /api/v3/cache (canonical) and /api/v3/advanced/cache (the seeds' paths). */
export function cacheRoutes(prefix: 'canonical' | 'seeds') {
  const id = (name: string) => (prefix === 'canonical' ? name : `${name}Advanced`);
  return createRouter()
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'get',
          path: '/stats',
          operationId: id('cacheStats'),
          tags,
          summary: 'Cache hits and misses per namespace and tier (admin)',
          description:
            'Counted in Durable Objects across every isolate. A lookup is counted after its response is sent, so a count may trail a request that has just returned.',
          responses: { 200: jsonResponse(StatsSchema, 'Counts since the counters were created') },
        }),
      ),
      async (c) => c.json(await readStats(c.env), 200),
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'post',
          path: '/clear',
          operationId: id('clearCache'),
          tags,
          summary: 'Clear cache entries: all, a namespace, a key prefix, a key or a tag (admin, audited)',
          request: { body: jsonBody(ClearBody) },
          responses: { 200: jsonResponse(ClearedSchema, 'What each tier removed'), ...errorResponses('validation_error') },
        }),
      ),
      async (c) => {
        const target = c.req.valid('json');
        const cleared = await clearCache(c.env, target);
        await auditInsert(c.var.db, requestMeta(c), {
          action: 'cache.clear',
          targetType: 'cache',
          targetId: target.scope,
          details: { ...target, cleared },
        });
        return c.json({ cleared }, 200);
      },
    );
}
