import { z } from '@hono/zod-openapi';
import { toIso } from '../lib/time';
import { normaliseCidr } from './cidr';
import type { IpRuleRow } from './ip-rules';

/** The API shapes of IP rules, shared by the admin routes and the key owner's routes. */
export const IpRuleSchema = z
  .object({
    id: z.number().int(),
    action: z.enum(['allow', 'deny']),
    cidr: z.string().openapi({ description: 'Normalised block: network address and prefix', example: '203.0.113.0/24' }),
    api_key_id: z.number().int().nullable().openapi({ description: 'The key this rule restricts; null: global' }),
    note: z.string().nullable(),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi('IpRule');

export const ipRuleView = (r: IpRuleRow): z.infer<typeof IpRuleSchema> => ({
  id: r.id,
  action: r.action,
  cidr: r.cidr,
  api_key_id: r.apiKeyId,
  note: r.note,
  created_by: r.createdBy,
  created_at: toIso(r.createdAt),
});

export const IpRuleBody = z
  .strictObject({
    action: z.enum(['allow', 'deny']),
    cidr: z
      .string()
      .max(64)
      .transform((s, ctx) => {
        const cidr = normaliseCidr(s);
        if (cidr) return cidr;
        ctx.addIssue({ code: 'custom', message: 'expected an IPv4 or IPv6 address or CIDR block, e.g. 203.0.113.0/24 or 2001:db8::/32' });
        return z.NEVER;
      })
      .openapi({ type: 'string', maxLength: 64, example: '203.0.113.0/24' }),
    note: z.string().max(200).optional(),
  })
  .openapi('IpRuleRequest');
