import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { costBudgets, modelPrices, nodeAttempts, PROVIDERS, runs, users, workflows } from '../db/schema';
import { ADMINS, ANY_ROLE } from '../lib/access';
import { auditIfChanged, auditInsert } from '../lib/audit';
import { requestMeta } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { monthlyStanding, monthOf } from './budgets';
import { adminPriceWhere, forgetPrices, priceTable } from './prices';

const read = { roles: ANY_ROLE, scope: 'analytics:read' } as const;
const write = { roles: ANY_ROLE, scope: 'analytics:write' } as const;
const admin = { roles: ADMINS, scope: 'users:admin' } as const;
const tags = ['costs'];

const Usd = z.number().min(0).max(1_000_000);

const PriceSchema = z
  .object({
    provider: z.enum(PROVIDERS),
    model: z.string(),
    input_per_mtok: z.number().nullable().openapi({ description: 'USD per million input tokens; null: unknown' }),
    output_per_mtok: z.number().nullable(),
    source: z
      .enum(['admin', 'catalogue', 'unknown'])
      .openapi({ description: "admin: set here; catalogue: the model catalogue's list price" }),
    list_price: z.object({ input_per_mtok: z.number(), output_per_mtok: z.number() }).nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi('ModelPrice');

const PriceParams = z.object({
  provider: z.enum(PROVIDERS).openapi({ param: { name: 'provider', in: 'path' }, example: 'openai' }),
  model: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9@/:._-]+$/, 'a model id')
    .openapi({ param: { name: 'model', in: 'path' }, example: 'gpt-6-luna' }),
});

const PriceBody = z
  .strictObject({ input_per_mtok: Usd, output_per_mtok: Usd })
  .openapi('ModelPriceRequest', { description: 'USD per million tokens' });

const BudgetSchema = z
  .object({
    month: z.string().openapi({ example: '2026-12' }),
    monthly_usd: z.number().nullable().openapi({ description: 'Your limit for the month; null: none' }),
    ceiling_usd: z.number().nullable().openapi({ description: "An administrator's ceiling: your limit cannot be above it" }),
    spent_usd: z.number().openapi({ description: 'What your runs created this month have spent' }),
    remaining_usd: z.number().nullable(),
  })
  .openapi('CostBudget');

const OwnBudgetBody = z
  .strictObject({ monthly_usd: Usd.nullable().openapi({ description: "null removes your limit (not an administrator's ceiling)" }) })
  .openapi('CostBudgetRequest');

const CeilingBody = z
  .strictObject({ ceiling_usd: Usd.nullable().openapi({ description: 'null removes the ceiling' }) })
  .openapi('CostCeilingRequest');

const UserParam = z.object({
  userId: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'userId', in: 'path' }, example: 2 }),
});

const MonthQuery = z.object({
  month: z
    .string()
    .max(7)
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM')
    .optional()
    .openapi({ param: { name: 'month', in: 'query' }, description: 'Defaults to the current month (UTC)', example: '2026-12' }),
});

const UsageSchema = z
  .object({
    month: z.string(),
    runs: z.number().int(),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    cost_usd: z.number(),
    by_workflow: z
      .array(z.object({ workflow_id: z.number().int(), name: z.string(), runs: z.number().int(), cost_usd: z.number() }))
      .max(100),
    by_model: z
      .array(
        z.object({
          provider: z.string(),
          model: z.string(),
          calls: z.number().int(),
          tokens_in: z.number().int(),
          tokens_out: z.number().int(),
          cost_usd: z.number(),
          unpriced_calls: z.number().int(),
        }),
      )
      .max(100),
  })
  .openapi('CostUsage');

/** Writes a user's budget row (created on first use), stamped now. */
function upsertBudget(
  db: Parameters<typeof monthlyStanding>[0],
  userId: number,
  fields: { monthlyUsd: number; ceilingUsd?: number; updatedBy: number },
) {
  const set = { ...fields, updatedAt: Date.now() };
  return db
    .insert(costBudgets)
    .values({ userId, ...set })
    .onConflictDoUpdate({ target: costBudgets.userId, set });
}

async function budgetView(db: Parameters<typeof monthlyStanding>[0], userId: number) {
  const s = await monthlyStanding(db, userId);
  return {
    month: s.month,
    monthly_usd: s.limitUsd,
    ceiling_usd: s.ceilingUsd,
    spent_usd: s.spentUsd,
    remaining_usd: s.limitUsd === null ? null : Math.max(0, s.limitUsd - s.spentUsd),
  };
}

/** The month named `YYYY-MM` as [start, end) in epoch milliseconds, UTC. */
function monthRange(name: string | undefined): { name: string; start: number; end: number } {
  const { start, name: current } = monthOf(name ? Date.parse(`${name}-01T00:00:00Z`) : Date.now());
  const d = new Date(start);
  return { name: current, start, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

export const costRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/prices',
        operationId: 'listPrices',
        tags,
        summary: 'The price of every model: the catalogue list price, or the price an administrator set',
        responses: {
          200: jsonResponse(z.object({ items: z.array(PriceSchema).max(1000) }).openapi('ModelPriceList'), 'Prices'),
          ...errorResponses('unauthorized'),
        },
      }),
    ),
    async (c) => c.json({ items: await priceTable(c.env) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'put',
        path: '/prices/{provider}/{model}',
        operationId: 'setPrice',
        tags,
        summary: "Set a model's price (administrators); later calls are charged at it",
        request: { params: PriceParams, body: jsonBody(PriceBody) },
        responses: { 200: jsonResponse(PriceSchema, 'The price now charged'), ...errorResponses('validation_error', 'forbidden') },
      }),
    ),
    async (c) => {
      const { provider, model } = c.req.valid('param');
      const body = c.req.valid('json');
      const db = c.var.db;
      const row = {
        inputPerMTok: body.input_per_mtok,
        outputPerMTok: body.output_per_mtok,
        updatedBy: c.var.principal.userId,
        updatedAt: Date.now(),
      };
      await db.batch([
        db
          .insert(modelPrices)
          .values({ provider, model, ...row })
          .onConflictDoUpdate({ target: [modelPrices.provider, modelPrices.model], set: row }),
        auditInsert(db, requestMeta(c), { action: 'cost.price_set', targetType: 'model', targetId: `${provider}/${model}`, details: body }),
      ]);
      forgetPrices(c.env.DB);
      const item = (await priceTable(c.env)).find((p) => p.provider === provider && p.model === model)!;
      return c.json(item, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'delete',
        path: '/prices/{provider}/{model}',
        operationId: 'deletePrice',
        tags,
        summary: "Remove an administrator's price: the catalogue's list price applies again",
        request: { params: PriceParams },
        responses: { 204: { description: 'Removed' }, ...errorResponses('validation_error', 'forbidden', 'not_found') },
      }),
    ),
    async (c) => {
      const { provider, model } = c.req.valid('param');
      const db = c.var.db;
      const [deleted] = await db.batch([
        db.delete(modelPrices).where(adminPriceWhere(provider, model)).returning({ model: modelPrices.model }),
        auditIfChanged(db, requestMeta(c), { action: 'cost.price_removed', targetType: 'model', targetId: `${provider}/${model}` }),
      ]);
      if (!deleted.length) throw new ApiError('not_found', 'No administrator price is set for this model');
      forgetPrices(c.env.DB);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/budget',
        operationId: 'getCostBudget',
        tags,
        summary: 'Your monthly budget and what your runs spent this month',
        responses: { 200: jsonResponse(BudgetSchema, 'Your budget'), ...errorResponses('unauthorized') },
      }),
    ),
    async (c) => c.json(await budgetView(c.var.db, c.var.principal.userId), 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'put',
        path: '/budget',
        operationId: 'setCostBudget',
        tags,
        summary: 'Set your monthly budget (at most an administrator’s ceiling)',
        request: { body: jsonBody(OwnBudgetBody) },
        responses: { 200: jsonResponse(BudgetSchema, 'Your budget'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const userId = c.var.principal.userId;
      const { monthly_usd } = c.req.valid('json');
      const db = c.var.db;
      const current = await db.select().from(costBudgets).where(eq(costBudgets.userId, userId)).get();
      const ceiling = current?.ceilingUsd ?? null;
      if (ceiling !== null && (monthly_usd === null || monthly_usd > ceiling))
        throw new ApiError('validation_error', `An administrator set your monthly ceiling at $${ceiling}: your budget cannot be above it`, {
          details: [{ path: ['monthly_usd'], code: 'above_ceiling', message: `at most ${ceiling}` }],
        });
      const audit = auditInsert(db, requestMeta(c), {
        action: 'cost.budget_set',
        targetType: 'user',
        targetId: userId,
        details: { monthly_usd },
      });
      if (monthly_usd === null) await db.batch([db.delete(costBudgets).where(eq(costBudgets.userId, userId)), audit]);
      else {
        await db.batch([upsertBudget(db, userId, { monthlyUsd: monthly_usd, updatedBy: userId }), audit]);
      }
      return c.json(await budgetView(db, userId), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(admin, {
        method: 'put',
        path: '/budgets/{userId}',
        operationId: 'setCostCeiling',
        tags,
        summary: "Set a user's monthly ceiling (administrators): their budget becomes at most it",
        request: { params: UserParam, body: jsonBody(CeilingBody) },
        responses: {
          200: jsonResponse(BudgetSchema, "The user's budget"),
          ...errorResponses('validation_error', 'forbidden', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const { userId } = c.req.valid('param');
      const { ceiling_usd } = c.req.valid('json');
      const db = c.var.db;
      if (!(await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).get()))
        throw new ApiError('not_found', 'User not found');
      const current = await db.select().from(costBudgets).where(eq(costBudgets.userId, userId)).get();
      const audit = auditInsert(db, requestMeta(c), {
        action: 'cost.ceiling_set',
        targetType: 'user',
        targetId: userId,
        details: { ceiling_usd },
      });
      if (ceiling_usd === null) {
        await db.batch([
          db
            .update(costBudgets)
            .set({ ceilingUsd: null, updatedBy: c.var.principal.userId, updatedAt: Date.now() })
            .where(eq(costBudgets.userId, userId)),
          audit,
        ]);
      } else {
        // The user's own limit stays if it is lower; otherwise the ceiling is their limit.
        const monthlyUsd = Math.min(current?.monthlyUsd ?? ceiling_usd, ceiling_usd);
        await db.batch([upsertBudget(db, userId, { monthlyUsd, ceilingUsd: ceiling_usd, updatedBy: c.var.principal.userId }), audit]);
      }
      return c.json(await budgetView(db, userId), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/usage',
        operationId: 'getCostUsage',
        tags,
        summary: 'What your runs created in a month spent: totals, by workflow and by model',
        request: { query: MonthQuery },
        responses: { 200: jsonResponse(UsageSchema, 'Usage'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const userId = c.var.principal.userId;
      const month = monthRange(c.req.valid('query').month);
      const db = c.var.db;
      const inMonth = and(eq(runs.ownerId, userId), gte(runs.createdAt, month.start), lt(runs.createdAt, month.end));
      const [totals, byWorkflow, byModel] = await db.batch([
        db
          .select({
            runs: sql<number>`count(*)`,
            tokensIn: sql<number>`coalesce(sum(${runs.tokensIn}), 0)`,
            tokensOut: sql<number>`coalesce(sum(${runs.tokensOut}), 0)`,
            costUsd: sql<number>`coalesce(sum(${runs.costUsd}), 0)`,
          })
          .from(runs)
          .where(inMonth),
        db
          .select({
            workflowId: runs.workflowId,
            name: workflows.name,
            runs: sql<number>`count(*)`,
            costUsd: sql<number>`coalesce(sum(${runs.costUsd}), 0)`,
          })
          .from(runs)
          .innerJoin(workflows, eq(workflows.id, runs.workflowId))
          .where(inMonth)
          .groupBy(runs.workflowId)
          .orderBy(desc(sql`coalesce(sum(${runs.costUsd}), 0)`))
          .limit(100),
        db
          .select({
            provider: nodeAttempts.provider,
            model: nodeAttempts.model,
            calls: sql<number>`count(*)`,
            tokensIn: sql<number>`coalesce(sum(${nodeAttempts.tokensIn}), 0)`,
            tokensOut: sql<number>`coalesce(sum(${nodeAttempts.tokensOut}), 0)`,
            costUsd: sql<number>`coalesce(sum(${nodeAttempts.costUsd}), 0)`,
            unpriced: sql<number>`sum(case when ${nodeAttempts.costUsd} is null then 1 else 0 end)`,
          })
          .from(nodeAttempts)
          .innerJoin(runs, eq(runs.id, nodeAttempts.runId))
          .where(and(inMonth, sql`${nodeAttempts.provider} is not null`))
          .groupBy(nodeAttempts.provider, nodeAttempts.model)
          .orderBy(desc(sql`coalesce(sum(${nodeAttempts.costUsd}), 0)`))
          .limit(100),
      ]);
      const t = totals[0]!;
      return c.json(
        {
          month: month.name,
          runs: t.runs,
          tokens_in: t.tokensIn,
          tokens_out: t.tokensOut,
          cost_usd: t.costUsd,
          by_workflow: byWorkflow.map((w) => ({ workflow_id: w.workflowId, name: w.name, runs: w.runs, cost_usd: w.costUsd })),
          by_model: byModel.map((m) => ({
            provider: m.provider!,
            model: m.model ?? '',
            calls: m.calls,
            tokens_in: m.tokensIn,
            tokens_out: m.tokensOut,
            cost_usd: m.costUsd,
            unpriced_calls: m.unpriced,
          })),
        },
        200,
      );
    },
  );
