/**
 * Data routes: interactions, item features, stats. The dataset belongs to the account that posts
 * it (`owner_id` = the caller): two accounts may both have a "user123" without meeting.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { recInteractions } from '../db/schema';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { BulkInteractionsBody, BulkItemsBody, InteractionBody, InteractionSchema, ItemBody, ItemSchema, StatsSchema } from './schemas';
import { recommendationStats } from './stats';
import { read, tags, write } from './access';
import { insertInteractions, upsertItems } from './queries';

type InteractionRecord = typeof recInteractions.$inferSelect;
const interactionView = (r: InteractionRecord) => ({
  id: r.id,
  user_id: r.userKey,
  item_id: r.itemKey,
  interaction_type: r.type,
  rating: r.rating,
  weight: r.weight,
  event_id: r.eventId,
  created_at: new Date(r.createdAt).toISOString(),
});

const itemView = (r: { itemKey: string; features: Record<string, string | number | boolean>; content: string; updatedAt: number }) => ({
  item_id: r.itemKey,
  features: r.features,
  content: r.content,
  updated_at: new Date(r.updatedAt).toISOString(),
});

export const recommendationDataRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/interactions',
        operationId: 'recordRecInteraction',
        tags,
        summary: 'Record one user-item interaction (view, like, purchase, rating)',
        request: { body: jsonBody(InteractionBody) },
        responses: {
          201: jsonResponse(InteractionSchema, 'Stored'),
          200: jsonResponse(InteractionSchema, 'This event_id was already stored; nothing new was written'),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const ownerId = c.var.principal.userId;
      const [row] = await insertInteractions(c.var.db, ownerId, [body]);
      if (row) return c.json(interactionView(row), 201);
      // Only a duplicate event_id inserts nothing; answer with the row already stored.
      const [prior] = await c.var.db
        .select()
        .from(recInteractions)
        .where(and(eq(recInteractions.ownerId, ownerId), eq(recInteractions.eventId, body.event_id ?? '')))
        .limit(1);
      return c.json(interactionView(prior!), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/interactions/bulk',
        operationId: 'recordRecInteractionsBulk',
        tags,
        summary: 'Record up to 1000 interactions at once (all or none)',
        request: { body: jsonBody(BulkInteractionsBody) },
        responses: {
          201: jsonResponse(
            z.object({ received: z.number().int(), inserted: z.number().int(), duplicates: z.number().int() }).openapi('RecBulkResult'),
            'Stored',
          ),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const { interactions } = c.req.valid('json');
      const rows = await insertInteractions(c.var.db, c.var.principal.userId, interactions);
      return c.json({ received: interactions.length, inserted: rows.length, duplicates: interactions.length - rows.length }, 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/items/features',
        operationId: 'upsertRecItem',
        tags,
        summary: "Set an item's features and text content (replaces what was stored)",
        request: { body: jsonBody(ItemBody) },
        responses: { 200: jsonResponse(ItemSchema, 'Stored'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const [row] = await upsertItems(c.var.db, c.var.principal.userId, [c.req.valid('json')]);
      return c.json(itemView(row!), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/items/features/bulk',
        operationId: 'upsertRecItemsBulk',
        tags,
        summary: 'Set up to 500 items at once (all or none)',
        request: { body: jsonBody(BulkItemsBody) },
        responses: {
          200: jsonResponse(z.object({ stored: z.number().int() }).openapi('RecItemBulkResult'), 'Stored'),
          ...errorResponses('validation_error'),
        },
      }),
    ),
    async (c) => {
      const { items } = c.req.valid('json');
      const rows = await upsertItems(c.var.db, c.var.principal.userId, items);
      return c.json({ stored: rows.length }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/stats',
        operationId: 'recommendationStats',
        tags,
        summary: "Counts of stored interactions, items and models (yours; everyone's for an admin)",
        responses: { 200: jsonResponse(StatsSchema, 'Counts') },
      }),
    ),
    async (c) => {
      const p = c.var.principal;
      return c.json(await recommendationStats(c.var.db, p.role === 'admin' ? null : p.userId), 200);
    },
  );
