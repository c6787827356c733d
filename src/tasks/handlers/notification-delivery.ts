import { attemptDelivery } from '../../notifications/deliver';
import type { Payloads } from '../payloads';
import { TaskError, type AttemptContext, type Outcome } from './types';

/**
 * notification_delivery: one attempt at one notification (src/notifications/deliver.ts). The
 * notification's own rows (sent, attempt, effect) join the batch that marks the task succeeded;
 * a failure is retried with the task layer's backoff only when the provider's answer allows it.
 */
export async function notificationDelivery({ env, db, task, now }: AttemptContext, p: Payloads['notification_delivery']): Promise<Outcome> {
  const verdict = await attemptDelivery(env, db, task, p.delivery_id, now);
  if (verdict.kind === 'failed') throw new TaskError(verdict.message, verdict.retryable);
  return { kind: 'succeeded', result: verdict.result, statements: verdict.statements };
}
