import { asc, inArray, lte } from 'drizzle-orm';
import { z } from 'zod';
import { getDb, type DB } from '../db/client';
import { eventOutbox } from '../db/schema';
import { log } from './log';

/*
 * Domain events: what happened in one feature that others may act on. An emitter never calls its
 * listeners. It writes the event to its own outbox in the same write as the change — a run's
 * Durable Object storage (src/engine), or the D1 batch that makes the change (eventInsert
 * below) — and the outbox is handed to the `dwc-events` queue once the write is durable. The
 * queue's consumer passes each event to the subscribers that src/worker.ts registered.
 *
 * Delivery is at least once: an outbox entry is removed only after the queue accepted it, so a
 * crash between the two sends it again, and a subscriber that throws gets the message again.
 * Every subscriber is therefore idempotent, keyed by the event's id, which is made from what
 * happened (`run:12:succeeded`), never from when it was sent.
 */

export const EVENT_TYPES = [
  'workflow.completed',
  'workflow.failed',
  'document.generated',
  'approval.requested',
  'task.failed',
  'workflow.created',
  'workflow.updated',
  'security.alert',
  'account.credentials_revoked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event as it travels; checked again when it leaves the queue, like any untrusted input. */
export const DomainEvent = z.object({
  id: z.string().min(1).max(200),
  type: z.enum(EVENT_TYPES),
  /** The user whose data it concerns; null for service-wide events (security alerts). */
  ownerId: z.number().int().nullable(),
  at: z.number(),
  data: z.record(z.string(), z.unknown()),
  /**
   * What caused it, for loop detection: `run:<id>`, `task:<id>`, `notification:<id>`. An automation
   * that started that run or task makes this event one hop deeper in its chain.
   */
  effectRef: z.string().nullable(),
});
export type DomainEvent = z.infer<typeof DomainEvent>;

export const EVENTS_QUEUE_NAME = 'dwc-events';

/** A queue batch holds at most 100 messages. */
const SEND_BATCH = 100;

/** The outbox insert for an event, to put in the same `db.batch` as the change it reports. */
export function eventInsert(db: DB, e: DomainEvent) {
  return db.insert(eventOutbox).values({ eventId: e.id, body: e }).onConflictDoNothing();
}

/** Hands events to the queue; throws when the queue did not accept them (nothing is then lost: the caller keeps them). */
export async function sendEvents(queue: Queue, events: DomainEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += SEND_BATCH) {
    await queue.sendBatch(events.slice(i, i + SEND_BATCH).map((body) => ({ body, contentType: 'json' as const })));
  }
}

/**
 * Sends what the D1 outbox holds, oldest first, and deletes each page once the queue took it.
 * Called after a batch that stored events (through waitUntil) and by the minute cron for rows
 * older than `olderThanMs` that such a call left behind. Two of these running at once may send a
 * row twice, which subscribers absorb. Returns how many rows were sent.
 */
export async function publishOutbox(env: Pick<Env, 'DB' | 'EVENTS_QUEUE'>, olderThanMs = 0, maxRows = 1000): Promise<number> {
  const db = getDb(env.DB);
  let sent = 0;
  while (sent < maxRows) {
    const rows = await db
      .select()
      .from(eventOutbox)
      .where(lte(eventOutbox.createdAt, Date.now() - olderThanMs))
      .orderBy(asc(eventOutbox.id))
      .limit(SEND_BATCH)
      .all();
    if (rows.length === 0) break;
    const events = rows.flatMap((r) => {
      const e = DomainEvent.safeParse(r.body);
      return e.success ? [e.data] : [];
    });
    await sendEvents(env.EVENTS_QUEUE, events);
    await db.delete(eventOutbox).where(
      inArray(
        eventOutbox.id,
        rows.map((r) => r.id),
      ),
    );
    sent += rows.length;
  }
  return sent;
}

/**
 * After a batch that stored events: sends them now, so subscribers hear of them within moments.
 * Never throws: what it could not send stays in the outbox for the minute cron.
 */
export async function publishEvents(env: Pick<Env, 'DB' | 'EVENTS_QUEUE' | 'LOG_LEVEL'>): Promise<void> {
  try {
    await publishOutbox(env);
  } catch (err) {
    log(env.LOG_LEVEL, 'warn', 'domain events left in the outbox for the cron', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** A feature's handler for domain events, registered by src/worker.ts. It must be idempotent per event id. */
export type Subscriber = {
  name: string;
  types: readonly EventType[];
  handle(env: Env, event: DomainEvent): Promise<void>;
};

/** Seconds before a failed event is offered again: 5, 10, 20 … up to 5 minutes. */
export const eventRetryDelay = (attempts: number) => Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));

/**
 * The `dwc-events` consumer: each event goes to every subscriber of its type, in registration
 * order. Messages are acked or retried one by one; a subscriber that throws has the whole event
 * offered again later (the others, being idempotent, do nothing the second time).
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env, subscribers: readonly Subscriber[]): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      const parsed = DomainEvent.safeParse(msg.body);
      if (!parsed.success) {
        log(env.LOG_LEVEL, 'warn', 'dropping a malformed domain event', { id: msg.id });
        msg.ack();
        return;
      }
      const event = parsed.data;
      try {
        for (const s of subscribers) if (s.types.includes(event.type)) await s.handle(env, event);
        msg.ack();
      } catch (err) {
        log(env.LOG_LEVEL, 'warn', 'domain event will be offered again', {
          event: event.id,
          attempt: msg.attempts,
          error: err instanceof Error ? err.message : String(err),
        });
        msg.retry({ delaySeconds: eventRetryDelay(msg.attempts) });
      }
    }),
  );
}
