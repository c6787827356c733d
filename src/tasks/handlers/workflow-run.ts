import type { RequestMeta } from '../../lib/audit';
import { ApiError } from '../../lib/errors';
import { launchRun } from '../../runs/launch';
import { getWorkflow } from '../../workflows/queries';
import type { Payloads } from '../payloads';
import { TaskError, type AttemptContext, type Outcome } from './types';

/**
 * workflow_run: starts a run of the workflow through the chain engine's own launch path. The
 * Idempotency-Key `task:<id>` makes a repeated attempt find the run the first one started.
 * The task then follows the run (watch messages) and ends with the run's outcome.
 */
export async function workflowRun({ env, db, task }: AttemptContext, p: Payloads['workflow_run']): Promise<Outcome> {
  const workflow = await getWorkflow(db, task.ownerId, p.workflow_id);
  if (!workflow) throw new TaskError(`workflow ${p.workflow_id} not found`, false);
  const meta: RequestMeta = { requestId: `task:${task.id}`, ip: null, userAgent: null, actorUserId: task.ownerId, actorApiKeyId: null };
  try {
    const { runId } = await launchRun(env, db, meta, {
      workflow,
      ownerId: task.ownerId,
      input: p.input,
      idempotencyKey: `task:${task.id}`,
    });
    return { kind: 'handed_off', runId };
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) throw new TaskError(err.message, false);
    throw err;
  }
}
