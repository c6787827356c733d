/** The domain-event outbox for events raised inside D1 batches (src/lib/events.ts). */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { now } from './columns';

/**
 * A domain event waiting to be handed to the events queue. It is inserted in the same D1 batch as
 * the change it reports (a workflow saved, a task failed, a security event recorded), so the
 * change and its event exist together or not at all. Rows are deleted once the queue accepted
 * them; the minute cron sends whatever a request or consumer left behind. `event_id` is made from
 * what happened, so raising the same event twice stores it once.
 */
export const eventOutbox = sqliteTable(
  'event_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: text('event_id').notNull().unique(),
    body: text('body', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('event_outbox_created_idx').on(t.createdAt)],
);
