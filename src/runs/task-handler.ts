import { z } from 'zod';
import { ApiError } from '../lib/errors';
import type { RequestMeta } from '../lib/audit';
import { TaskError, taskHandler } from '../tasks';
import { runOutput, TERMINAL_RUN } from '../engine';
import { launchRun } from './launch';
import { runStub } from './rpc';
import { getWorkflow } from '../workflows';

const WorkflowRunPayload = z
  .object({
    workflow_id: z.number().int().positive(),
    input: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const runsTaskHandlers = {
  /**
   * workflow_run: starts a run of the workflow through the chain engine's own launch path. The
   * Idempotency-Key `task:<id>` makes a repeated attempt find the run the first one started. The
   * task then follows the run and ends with the run's outcome.
   */
  workflow_run: taskHandler({
    payload: WorkflowRunPayload,
    async check(c, p) {
      if (!(await getWorkflow(c.db, c.ownerId, p.workflow_id))) throw new ApiError('not_found', 'Workflow not found');
    },
    async run({ env, db, task }, p) {
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
    },
    follow: {
      async poll(env, task) {
        const view = await runStub(env, task.runId).view();
        const status = view.meta.status;
        if (!TERMINAL_RUN.includes(status)) return null;
        const nodes = new Map(view.nodes.map((n) => [n.id, n]));
        const result = { run_id: task.runId, status, output: status === 'succeeded' ? runOutput(view.meta, nodes) : null };
        if (status === 'succeeded') return { status: 'succeeded', result };
        if (status === 'cancelled') return { status: 'cancelled', result, error: `run ${task.runId} was cancelled` };
        return { status: 'failed', result, error: `run ${task.runId} failed: ${view.meta.error ?? 'unknown error'}` };
      },
      async expire(env, task) {
        await runStub(env, task.runId).cancel(`task ${task.id} ran out of its time budget`);
        return {
          status: 'timed_out',
          result: { run_id: task.runId, status: 'cancelled' },
          error: `run ${task.runId} did not finish within timeout_seconds; it was cancelled`,
        };
      },
    },
    async cancel(env, task) {
      if (task.runId !== null) await runStub(env, task.runId).cancel(`task ${task.id} was cancelled`);
    },
  }),
};
