import { and, eq, isNotNull } from 'drizzle-orm';
import { getDb, runBatch, type DB } from '../db/client';
import { tasks } from '../db/schema';
import { eventInsert, publishEvents } from '../lib/events';
import { log } from '../lib/log';
import { planRetry, QUEUE_MAX_DELAY_SECONDS } from './backoff';
import { TASKS_DLQ_NAME, TaskMessage } from './dispatch';
import {
  claimAttempt,
  deadLetterStatements,
  effectInsert,
  expireStatement,
  finishStatements,
  markDead,
  retryStatements,
  TERMINAL,
  type TaskRow,
} from './lifecycle';
import { afterEnd, endStatements, type EndedTask, type Outcome, TaskError, taskWiring } from './registry';
import { dispatcher } from './rpc';

/** What to do with one message, and what to tell others once the batch is done. */
type Decision = { retryDelay?: number; release?: boolean; ended?: EndedTask; events?: boolean };
const ack = (more: Omit<Decision, 'retryDelay'> = {}): Decision => more;

/** Entry point for dwc-tasks and its dead-letter queue; the batch says which one it came from. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = getDb(env.DB);
  const deadLetters = batch.queue === TASKS_DLQ_NAME;
  const release: number[] = [];
  const ended: EndedTask[] = [];
  let events = false;
  // Each message is acked or retried on its own: one failing task never redelivers the others.
  await Promise.all(
    batch.messages.map(async (msg) => {
      const body = TaskMessage.safeParse(msg.body);
      if (!body.success) {
        log(env.LOG_LEVEL, 'warn', 'dropping a malformed task message', { queue: batch.queue, id: msg.id });
        return msg.ack();
      }
      try {
        const d = deadLetters ? await processDeadLetter(db, body.data, msg.attempts) : await processTaskMessage(env, db, body.data);
        if (d.release) release.push(body.data.task_id);
        if (d.ended) ended.push(d.ended);
        if (d.events) events = true;
        if (d.retryDelay !== undefined) msg.retry({ delaySeconds: d.retryDelay });
        else msg.ack();
      } catch (err) {
        // Infrastructure trouble (D1, the queue, an object): redeliver this message later.
        log(env.LOG_LEVEL, 'error', 'task message failed', {
          queue: batch.queue,
          task_id: body.data.task_id,
          error: err instanceof Error ? err.message : String(err),
        });
        msg.retry({ delaySeconds: 10 });
      }
    }),
  );
  if (events) await publishEvents(env);
  // Best effort: a lost release or hook call is repaired by the minute cron.
  try {
    if (release.length) await dispatcher(env).release(release);
    await afterEnd(env, ended);
  } catch (err) {
    log(env.LOG_LEVEL, 'warn', 'could not notify the dispatcher or a hook', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/** One message from dwc-tasks: an attempt of a task (`run`) or a check on what it handed off to (`watch`). */
export async function processTaskMessage(env: Env, db: DB, m: TaskMessage, now = Date.now()): Promise<Decision> {
  if (m.kind === 'watch') return watchHandOff(env, db, m, now);
  const task = await claimAttempt(db, m.task_id, m.seq, now);
  if (!task) return lostClaim(env, db, m, now);
  const deadline = task.deadlineAt ?? now + task.timeoutSeconds * 1000;
  let outcome: Outcome;
  try {
    const handler = taskWiring().handlers[task.taskType];
    outcome = await handler.run({ env, db, task, now, deadline }, handler.payload.parse(task.payload));
  } catch (err) {
    return failed(env, db, task, err, deadline);
  }
  if (outcome.kind === 'handed_off') {
    await runBatch(db, [
      effectInsert(db, task.id, { effect: 'run_started', detail: { run_id: outcome.runId } }),
      db
        .update(tasks)
        .set({ runId: outcome.runId, watchSeq: 0, leaseUntil: Date.now() + 61_000, updatedAt: Date.now() })
        .where(and(eq(tasks.id, task.id), eq(tasks.status, 'running'), eq(tasks.attempts, task.attempts))),
    ]);
    await env.TASKS_QUEUE.send({ kind: 'watch', task_id: task.id, seq: 0 } satisfies TaskMessage, { delaySeconds: 1 });
    return ack({ release: true });
  }
  await runBatch(db, finishStatements(db, task, Date.now(), { status: 'succeeded', result: outcome.result }, outcome.statements));
  return ack({ release: true, ended: task });
}

/**
 * A failed attempt: retry with backoff (or after the wait the called service asked for), or end
 * the task (failed, timed out, or dead-lettered). A task that fails for good raises `task.failed`
 * in the same batch that ends it.
 */
async function failed(env: Env, db: DB, task: TaskRow, err: unknown, deadline: number): Promise<Decision> {
  const now = Date.now();
  const retryable = !(err instanceof TaskError) || err.retryable;
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof TaskError)) log(env.LOG_LEVEL, 'error', 'task attempt threw', { task_id: task.id, error: message });
  const plan = planRetry(task.attempts, now, deadline, err instanceof TaskError ? err.retryAfterMs : undefined);
  // A wait past the deadline ends the task timed out; one no queue message can wait out ends it failed.
  if (retryable && !plan.retry && plan.delaySeconds <= QUEUE_MAX_DELAY_SECONDS) {
    await runBatch(db, finishStatements(db, task, now, { status: 'timed_out', error: `${message} (${plan.reason})` }));
    return ack({ release: true, ended: task });
  }
  if (!retryable || !plan.retry) {
    const error = retryable && !plan.retry ? `${message} (${plan.reason})` : message;
    await runBatch(db, [...finishStatements(db, task, now, { status: 'failed', error }), eventInsert(db, taskFailed(task, error, now))]);
    return ack({ release: true, ended: task, events: true });
  }
  if (task.attempts <= task.maxRetries) {
    await runBatch(db, retryStatements(db, task, now, message, plan.delaySeconds));
    return { retryDelay: plan.delaySeconds };
  }
  return deadLetter(env, db, task, `failed ${task.attempts} attempt(s); last error: ${message}`);
}

/** The `task.failed` domain event. Tasks made by an automation's action count as its effects. */
function taskFailed(task: TaskRow, error: string, at: number) {
  return {
    id: `task:${task.id}:failed`,
    type: 'task.failed' as const,
    ownerId: task.ownerId,
    at,
    data: { task_id: task.id, task_type: task.taskType, name: task.name, error: error.slice(0, 2000) },
    // A failed notification delivery traces back through its delivery id, so an automation that
    // notifies about failed tasks counts its own failing notifications as hops.
    effectRef: task.taskType === 'notification_delivery' ? `notification:${String(task.payload.delivery_id)}` : `task:${task.id}`,
  };
}

/** Out of retries: hand the task to the dead-letter queue, whose consumer marks it dead. */
async function deadLetter(env: Env, db: DB, task: TaskRow, reason: string): Promise<Decision> {
  await runBatch(db, deadLetterStatements(db, task, Date.now(), reason.slice(0, 2000)));
  await env.TASKS_DLQ.send({
    kind: 'run',
    task_id: task.id,
    seq: task.dispatchSeq ?? 0,
    reason: reason.slice(0, 2000),
  } satisfies TaskMessage);
  return ack();
}

/** This delivery may not run the task. Work out why, and whether anything is left to do. */
async function lostClaim(env: Env, db: DB, m: TaskMessage, now: number): Promise<Decision> {
  const row = await db.select().from(tasks).where(eq(tasks.id, m.task_id)).get();
  if (!row || TERMINAL.includes(row.status) || row.runId !== null) return ack({ release: true });
  if (row.deadlineAt !== null && row.deadlineAt <= now && row.status !== 'running') {
    await runBatch(db, [expireStatement(db, row.id, now), ...endStatements(db, row, false, now)]);
    return ack({ release: true, ended: row });
  }
  if (row.status === 'retrying' && row.nextRetryAt !== null && row.nextRetryAt > now) return tooEarly(env, m, row.nextRetryAt - now);
  const live = row.status === 'running' && (row.leaseUntil ?? 0) >= now;
  if (row.attempts > row.maxRetries && !live) {
    return deadLetter(
      env,
      db,
      row,
      row.error ? `failed ${row.attempts} attempt(s); last error: ${row.error}` : `failed ${row.attempts} attempt(s)`,
    );
  }
  // Another delivery of this message holds a live lease: this one is the duplicate.
  return ack();
}

/**
 * A delivery that came before the task's retry time (a copy of a message — Queues deliver at
 * least once — or one the reconcile re-sent): the claim refused it, so nothing ran. Acking it
 * alone would be safe only if the delayed message were sure to come, and it is not: if the
 * consumer that set `retrying` died before its `message.retry()` reached the queue, the queue
 * redelivers that very message after its own retry_delay, and this may be it. So it is put back
 * for the time that remains. It goes back as a fresh message, sent before this one is acked
 * (a failed send throws, and the message is retried), rather than through `message.retry()`:
 * a retry counts toward the queue's max_retries, and a message past it is dead-lettered, which
 * marks the task dead — early copies must not spend the attempts the task's own retries need.
 * One copy in gives one message out, so copies never multiply, and at the retry time one claim
 * wins and the other message finds the attempt under way (or the task ended) and is acked.
 */
async function tooEarly(env: Env, m: TaskMessage, remainingMs: number): Promise<Decision> {
  // next_retry_at is at most the queue's longest delay ahead (planRetry); the cap is a guard.
  const delaySeconds = Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(1, Math.ceil(remainingMs / 1000)));
  await env.TASKS_QUEUE.send({ kind: 'run', task_id: m.task_id, seq: m.seq } satisfies TaskMessage, { delaySeconds });
  return ack();
}

/** A task that handed its work off (a workflow_run's run) follows it: finish with its outcome, or look again later. */
async function watchHandOff(env: Env, db: DB, m: TaskMessage, now: number): Promise<Decision> {
  const task = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, m.task_id), eq(tasks.status, 'running'), isNotNull(tasks.runId), eq(tasks.watchSeq, m.seq)))
    .get();
  if (!task || task.runId === null) return ack();
  const follow = taskWiring().handlers[task.taskType].follow;
  if (!follow) return ack();
  const handedOff = { ...task, runId: task.runId };
  const end = await follow.poll(env, handedOff);
  if (end) {
    await runBatch(db, finishStatements(db, task, now, end));
    return ack({ ended: task });
  }
  if (task.deadlineAt !== null && now >= task.deadlineAt) {
    await runBatch(db, finishStatements(db, task, now, await follow.expire(env, handedOff)));
    return ack({ ended: task });
  }
  // Compare-and-set on the watch step, so a duplicated watch message cannot fork the chain.
  const delay = Math.min(30, 2 ** Math.min(m.seq, 5));
  const [advanced] = await db
    .update(tasks)
    .set({ watchSeq: m.seq + 1, leaseUntil: now + (delay + 60) * 1000, updatedAt: now })
    .where(and(eq(tasks.id, task.id), eq(tasks.watchSeq, m.seq), eq(tasks.status, 'running')))
    .returning({ id: tasks.id });
  if (advanced)
    await env.TASKS_QUEUE.send({ kind: 'watch', task_id: task.id, seq: m.seq + 1 } satisfies TaskMessage, { delaySeconds: delay });
  return ack();
}

/** One message from the dead-letter queue: the task is dead, and why. */
export async function processDeadLetter(db: DB, m: TaskMessage, deliveries: number): Promise<Decision> {
  const reason =
    m.reason ??
    `its queue message kept failing to be processed and was dead-lettered by the queue (delivery ${deliveries} on the dead-letter queue)`;
  const dead = await markDead(db, m.task_id, reason, Date.now());
  return dead ? ack({ release: true, ended: dead }) : ack();
}
