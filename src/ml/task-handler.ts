import { z } from 'zod';
import { invalidField } from '../lib/errors';
import { taskHandler } from '../tasks';
import { finishTraining } from './jobs';
import { pendingTraining } from './queries';

/** Made by POST /api/v3/ml/models/{model_id}/train for large trains (jobs.ts). */
const MlTrainPayload = z
  .object({ model_id: z.number().int().positive(), version: z.number().int().positive(), activate: z.boolean().default(false) })
  .strict();

export const mlTaskHandlers = {
  /** ml_train: fits a queued model version; its effect (model JSON, version ready) commits with the task. */
  ml_train: taskHandler({
    payload: MlTrainPayload,
    async check(c, p) {
      if (!(await pendingTraining(c.db, c.ownerId, p.model_id, p.version)))
        throw invalidField(
          [...c.at, 'model_id'],
          'not one of your model versions waiting to train; train through /api/v3/ml/models/{model_id}/train',
        );
    },
    async run({ db, task }, p) {
      const { result, statements } = await finishTraining(db, task.ownerId, p);
      return { kind: 'succeeded', result, statements };
    },
  }),
};
