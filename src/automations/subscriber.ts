import { getDb } from '../db/client';
import type { DomainEvent, Subscriber } from '../lib/events';
import { emitEvent } from './events';
import { AUTOMATION_EVENTS, type AutomationEvent } from './schemas';

const isAutomationEvent = (type: string): type is AutomationEvent => (AUTOMATION_EVENTS as readonly string[]).includes(type);

/**
 * Fires the owner's `event_based` automations that a domain event matches. Throws when D1 fails,
 * so the event is offered again; firing is idempotent per (automation, event id), so automations
 * that fired before the failure do not fire twice.
 */
export const automationsSubscriber: Subscriber = {
  name: 'automations',
  types: AUTOMATION_EVENTS,
  async handle(env: Env, e: DomainEvent): Promise<void> {
    if (e.ownerId === null || !isAutomationEvent(e.type)) return;
    await emitEvent(env, getDb(env.DB), { type: e.type, id: e.id, ownerId: e.ownerId, data: e.data, effectRef: e.effectRef });
  },
};
