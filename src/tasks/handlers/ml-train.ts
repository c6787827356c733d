import { finishTraining } from '../../ml/jobs';
import type { Payloads } from '../payloads';
import type { AttemptContext, Outcome } from './types';

/** ml_train: fits a queued model version; its effect (model JSON, version ready) commits with the task. */
export async function mlTrain({ db, task }: AttemptContext, p: Payloads['ml_train']): Promise<Outcome> {
  const { result, statements } = await finishTraining(db, task.ownerId, p);
  return { kind: 'succeeded', result, statements };
}
