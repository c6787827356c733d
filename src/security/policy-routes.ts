import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS } from '../lib/access';
import { LIMIT_SUBJECTS, ROUTE_CLASSES } from '../db/schema';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { toIsoOrNull } from '../lib/time';
import { createIpRule, deleteIpRule, findKey, listIpRules } from './ip-rules';
import { IpRuleBody, IpRuleSchema, ipRuleView } from './schemas';
import { deletePolicy, parseSubject, POLICY_CACHE_TTL_MS, policyUsage, putPolicy, readPolicies, type Policy } from './rate-limits';
import { requestMeta } from '../lib/context';

const read = { roles: ADMINS, scope: 'security:read' } as const;
const admin = { roles: ADMINS, scope: 'security:admin' } as const;
const tags = ['security'];

const PolicySchema = z
  .object({
    name: z.string(),
    subject: z.enum(LIMIT_SUBJECTS),
    route_class: z.enum(ROUTE_CLASSES),
    limit: z.number().int(),
    window_seconds: z.number().int(),
    enabled: z.boolean(),
    source: z
      .enum(['default', 'override'])
      .openapi({ description: '`default`: built in; `override`: stored, replacing or adding to the defaults' }),
    updated_at: z.string().nullable(),
    updated_by: z.number().int().nullable(),
  })
  .openapi('RateLimitPolicy');

const policyView = (p: Policy): z.infer<typeof PolicySchema> => ({
  name: p.name,
  subject: p.subject,
  route_class: p.routeClass,
  limit: p.limit,
  window_seconds: p.windowSeconds,
  enabled: p.enabled,
  source: p.source,
  updated_at: toIsoOrNull(p.updatedAt),
  updated_by: p.updatedBy,
});

const NameParam = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" and "-", at most 63 characters')
    .openapi({ param: { name: 'name', in: 'path' }, example: 'user-minute' }),
});

const PolicyBody = z
  .strictObject({
    subject: z.enum(LIMIT_SUBJECTS),
    route_class: z.enum(ROUTE_CLASSES).openapi({
      description:
        '`read`: GET/HEAD; `write`: other methods; `ai`: /api/v3/ai and /api/v3/advanced/ai; `auth`: sign-in family, per IP; `all`: every authenticated request',
    }),
    limit: z.number().int().min(1).max(10_000_000),
    window_seconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .openapi({ description: 'Usually 60, 3600 or 86400; any length up to a day is counted exactly' }),
    enabled: z.boolean().default(true),
  })
  .refine((b) => b.route_class !== 'auth' || b.subject === 'ip', {
    path: ['route_class'],
    message: 'the auth class is reachable without credentials, so it is counted per IP only (subject: ip)',
  })
  .openapi('RateLimitPolicyRequest', {
    anyOf: [
      { properties: { route_class: { not: { const: 'auth' } } } },
      { properties: { subject: { const: 'ip' } }, required: ['subject'] },
    ],
  });

const UsageQuery = z.object({
  subject: z
    .string()
    .max(80)
    .transform((s, ctx) => {
      const subject = parseSubject(s);
      if (subject) return subject;
      ctx.addIssue({ code: 'custom', message: 'expected user:<id>, api_key:<id> or ip:<address>' });
      return z.NEVER;
    })
    .openapi({ param: { name: 'subject', in: 'query' }, example: 'user:42', type: 'string', maxLength: 80 }),
});

const UsageSchema = z
  .object({
    subject: z.string().openapi({ description: 'The counted subject; IPv6 addresses are counted per /64' }),
    windows: z.array(
      PolicySchema.extend({
        count: z.number().int().openapi({ description: 'Requests admitted in the current window' }),
        refused: z.number().int().openapi({ description: 'Requests refused in the current window' }),
        remaining: z.number().int(),
        reset_at: z.string().nullable().openapi({ description: 'When the current window ends; null when none is open' }),
      }),
    ),
  })
  .openapi('RateLimitUsage');

const IpRuleQuery = PageQuery.extend({
  scope: z
    .enum(['all', 'global', 'key'])
    .default('all')
    .openapi({ param: { name: 'scope', in: 'query' }, description: '`global` rules, per-`key` rules, or `all`' }),
  api_key_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'api_key_id', in: 'query' }, description: "Only this key's rules" }),
});

// One closed object (not `.extend`, which the document would render as an allOf of two closed
// objects that no body can satisfy).
const AdminIpRuleBody = z
  .strictObject({
    ...IpRuleBody.shape,
    api_key_id: z
      .number()
      .int()
      .positive()
      .nullable()
      .default(null)
      .openapi({ description: "Restrict one API key (any user's); null or absent: a global rule" }),
  })
  .openapi('AdminIpRuleRequest');

export const policyRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/rate-limits',
        operationId: 'listRateLimitPolicies',
        tags,
        summary: 'Effective rate-limit policies (admin)',
        description:
          'The built-in defaults merged with stored overrides (same name replaces). Changes apply at once in the isolate that made them and within `cache_ttl_seconds` everywhere else.',
        responses: {
          200: jsonResponse(z.object({ items: z.array(PolicySchema), cache_ttl_seconds: z.number().int() }), 'Policies by name'),
        },
      }),
    ),
    async (c) => c.json({ items: (await readPolicies(c.var.db)).map(policyView), cache_ttl_seconds: POLICY_CACHE_TTL_MS / 1000 }, 200),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/rate-limits/usage',
        operationId: 'rateLimitUsage',
        tags,
        summary: "A subject's current counts in every window (admin)",
        request: { query: UsageQuery },
        responses: {
          200: jsonResponse(UsageSchema, "Counts, read from the subject's limiter object"),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const subject = c.req.valid('query').subject;
      const usage = await policyUsage(c.env, c.var.db, subject);
      return c.json(
        {
          subject: `${subject.kind}:${subject.id}`,
          windows: usage.map((u) => ({
            ...policyView(u.policy),
            count: u.count,
            refused: u.refused,
            remaining: Math.max(0, u.policy.limit - u.count),
            reset_at: toIsoOrNull(u.resetAt),
          })),
        },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'put',
        path: '/rate-limits/{name}',
        operationId: 'putRateLimitPolicy',
        tags,
        summary: 'Create or replace a rate-limit policy (admin)',
        description: 'Replacing a default by its name overrides it; `enabled: false` switches it off. Audited.',
        request: { params: NameParam, body: jsonBody(PolicyBody) },
        responses: { 200: jsonResponse(PolicySchema, 'The policy now in force'), ...errorResponses('validation_error', 'conflict') },
      }),
    ),
    async (c) => {
      const b = c.req.valid('json');
      const policy = await putPolicy(c.var.db, requestMeta(c), {
        name: c.req.valid('param').name,
        subject: b.subject,
        routeClass: b.route_class,
        limit: b.limit,
        windowSeconds: b.window_seconds,
        enabled: b.enabled,
      });
      return c.json(policyView(policy), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'delete',
        path: '/rate-limits/{name}',
        operationId: 'deleteRateLimitPolicy',
        tags,
        summary: 'Delete a stored policy (admin): its default, if any, applies again',
        request: { params: NameParam },
        responses: {
          200: jsonResponse(
            // A union, not `.nullable()` on a named schema (rendered as allOf with it, which null cannot pass).
            z.object({ deleted: z.string(), effective: z.union([PolicySchema, z.null()]) }),
            'Deleted; `effective` is the default now in force, or null',
          ),
          ...errorResponses('validation_error', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const name = c.req.valid('param').name;
      const effective = await deletePolicy(c.var.db, requestMeta(c), name);
      return c.json({ deleted: name, effective: effective ? policyView(effective) : null }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/ip-rules',
        operationId: 'listIpRules',
        tags,
        summary: 'IP allow/deny rules, global and per API key (admin)',
        request: { query: IpRuleQuery },
        responses: {
          200: jsonResponse(pageOf(IpRuleSchema, 'IpRulePage'), 'Rules, newest first'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listIpRules(c.var.db, { scope: q.scope, apiKeyId: q.api_key_id }, q.limit, decodeCursor(q.cursor));
      return c.json(toPage(rows, q.limit, ipRuleView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'post',
        path: '/ip-rules',
        operationId: 'createIpRule',
        tags,
        summary: 'Add an IP allow or deny rule (admin)',
        description:
          "Deny beats allow; once any global allow rule exists only matching addresses are admitted. A change that would refuse the calling admin's own address is refused with 409. The block is normalised to its network address.",
        request: { body: jsonBody(AdminIpRuleBody) },
        responses: { 201: jsonResponse(IpRuleSchema, 'Created'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const b = c.req.valid('json');
      if (b.api_key_id !== null) await findKey(c.var.db, b.api_key_id, undefined, { live: true });
      const rule = await createIpRule(c.var.db, requestMeta(c), {
        action: b.action,
        cidr: b.cidr,
        apiKeyId: b.api_key_id,
        note: b.note ?? null,
      });
      return c.json(ipRuleView(rule), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'delete',
        path: '/ip-rules/{id}',
        operationId: 'deleteIpRule',
        tags,
        summary: 'Delete an IP rule, global or of any key (admin)',
        request: { params: IdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      await deleteIpRule(c.var.db, requestMeta(c), c.req.valid('param').id);
      return c.newResponse(null, 204);
    },
  );
