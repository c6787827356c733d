import { and, eq, sql } from 'drizzle-orm';
import { preparedOnce, type DB } from '../db/client';
import { automations } from '../db/schema';
import { conditionsHold } from './conditions';
import { executionOfEffect, fire } from './execute';
import { Trigger, type AutomationEvent } from './schemas';

/*
 * Domain events reach automations through the events queue (src/lib/events.ts, subscriber.ts).
 * Each carries an id made from what happened (`run:12:succeeded`), so delivering it twice — an
 * outbox flushed again after an eviction, a message redelivered — fires each automation once:
 * executions are unique per (automation, event id). The chain depth comes from the effect's
 * origin: a run an automation's action launched is one hop deeper than that execution, so loops
 * are counted and stopped (MAX_CHAIN_DEPTH in execute.ts).
 */

export type InternalEvent = { type: AutomationEvent; id: string; ownerId: number; data: Record<string, unknown>; effectRef: string | null };

/** Built once per isolate: it runs for every document and run a chain produces. */
const candidatesQuery = preparedOnce((db) =>
  db
    .select()
    .from(automations)
    .where(
      and(eq(automations.ownerId, sql.placeholder('ownerId')), eq(automations.triggerType, 'event_based'), eq(automations.enabled, true)),
    )
    .prepare(),
);

/** Fires every enabled event_based automation of the owner that this event matches. */
export async function emitEvent(env: Env, db: DB, e: InternalEvent): Promise<number> {
  const candidates = await candidatesQuery(db).all({ ownerId: e.ownerId });
  const triggerData = { event_type: e.type, ...e.data };
  const scope = { trigger: triggerData, context: {}, event: { id: e.id, type: e.type }, actions: [] };
  // Without `event`, an automation matches internal events only through conditions it states.
  const matching = candidates.filter((a) => {
    const t = Trigger.safeParse(a.trigger);
    if (!t.success || t.data.type !== 'event_based') return false;
    if (t.data.event) return t.data.event === e.type && conditionsHold(t.data.conditions, scope);
    return t.data.conditions !== undefined && conditionsHold(t.data.conditions, scope);
  });
  if (!matching.length) return 0;
  const origin = e.effectRef ? await executionOfEffect(db, e.effectRef) : undefined;
  for (const a of matching) {
    await fire(env, db, a, {
      eventId: e.id,
      triggerData,
      context: {},
      depth: origin ? origin.depth + 1 : 0,
      originAutomationId: origin ? origin.origin : null,
      meta: { requestId: `event:${e.id}`.slice(0, 64), ip: null, userAgent: null, actorUserId: e.ownerId, actorApiKeyId: null },
    });
  }
  return matching.length;
}
