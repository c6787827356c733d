import { z } from '@hono/zod-openapi';
import { deliverInApp } from '../inbox';
import { ChannelError, type Channel } from './types';

/**
 * The in-app inbox (src/notifications/inbox.ts). The dedupe key `delivery:<id>` makes a repeated
 * attempt store nothing twice, so this channel is exactly-once.
 */
export const inAppChannel: Channel = {
  name: 'in_app',
  needsConfig: false,
  recipientIsConfig: false,
  settings: z.strictObject({}),
  secrets: z.strictObject({}),
  checkConfig: () => null,
  checkRecipient: (r) => (/^\S{1,100}$/.test(r) ? null : 'a username or user id'),
  async send({ env, db, target }, m) {
    if (target.recipientUserId === null) throw new ChannelError('the recipient is not a user', false);
    const stored = await deliverInApp(env, db, target.recipientUserId, {
      category: typeof m.data.category === 'string' ? m.data.category.slice(0, 50) : 'notification',
      title: m.subject,
      body: m.body,
      data: { ...m.data, delivery_id: m.deliveryId },
      priority: m.priority,
      dedupeKey: `delivery:${m.deliveryId}`,
    });
    return { status: null, providerMessageId: stored ? String(stored.id) : null };
  },
};
