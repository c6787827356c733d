import { createRoute, z } from '@hono/zod-openapi';
import { ANY_ROLE } from '../lib/access';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { createIpRule, deleteIpRule, findKey, listIpRules } from './ip-rules';
import { IpRuleBody, IpRuleSchema, ipRuleView } from './schemas';
import { requestMeta } from '../lib/context';

/*
 * A key's owner restricts where the key may be used from. Session only (no scope): a key must
 * not be able to widen its own restrictions. Another user's key answers 404, like an unknown one.
 */
const owner = { roles: ANY_ROLE } as const;
const tags = ['api keys'];

const KeyRuleParams = IdParam.extend({
  ruleId: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'ruleId', in: 'path' }, example: 1 }),
});

export const keyIpRuleRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(owner, {
        method: 'get',
        path: '/api-keys/{id}/ip-rules',
        operationId: 'listApiKeyIpRules',
        tags,
        summary: 'IP rules of one of your API keys',
        request: { params: IdParam, query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(IpRuleSchema, 'ApiKeyIpRulePage'), 'Rules, newest first'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      await findKey(c.var.db, id, c.var.principal.userId);
      const rows = await listIpRules(c.var.db, { scope: 'key', apiKeyId: id }, limit, decodeCursor(cursor));
      return c.json(toPage(rows, limit, ipRuleView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(owner, {
        method: 'post',
        path: '/api-keys/{id}/ip-rules',
        operationId: 'createApiKeyIpRule',
        tags,
        summary: 'Restrict one of your API keys to (allow) or away from (deny) addresses',
        description:
          'Applies after the global rules: deny beats allow, and once the key has an allow rule it works only from matching addresses.',
        request: { params: IdParam, body: jsonBody(IpRuleBody) },
        responses: { 201: jsonResponse(IpRuleSchema, 'Created'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const b = c.req.valid('json');
      await findKey(c.var.db, id, c.var.principal.userId, { live: true });
      const rule = await createIpRule(c.var.db, requestMeta(c), { action: b.action, cidr: b.cidr, apiKeyId: id, note: b.note ?? null });
      return c.json(ipRuleView(rule), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(owner, {
        method: 'delete',
        path: '/api-keys/{id}/ip-rules/{ruleId}',
        operationId: 'deleteApiKeyIpRule',
        tags,
        summary: 'Delete an IP rule of one of your API keys',
        request: { params: KeyRuleParams },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const { id, ruleId } = c.req.valid('param');
      await findKey(c.var.db, id, c.var.principal.userId);
      await deleteIpRule(c.var.db, requestMeta(c), ruleId, id);
      return c.newResponse(null, 204);
    },
  );
