import { DurableObject } from 'cloudflare:workers';
import {
  AGING_MS,
  GLOBAL_IN_FLIGHT,
  PER_USER_IN_FLIGHT,
  PRIORITY_RANK,
  type DispatchItem,
  type DispatcherStatus,
  type TaskMessage,
} from '../src/tasks/dispatch';
import { log } from '../src/lib/log';
import type { DispatcherRpc } from '../src/tasks/rpc';

/**
 * TaskDispatcher — one object for the whole service (`idFromName("global")`): it decides which
 * background task starts next. Cloudflare Queues has no priorities and delivers in roughly FIFO
 * order, so tasks do not wait *in* the queue: they wait here, and the dispatcher sends a task to
 * the queue only when a slot is free — at most GLOBAL_IN_FLIGHT in flight overall and
 * PER_USER_IN_FLIGHT per user. With a backlog, the next task is the one with the highest
 * priority (aged: one level per AGING_MS of waiting, so `low` still makes progress), then the
 * one whose owner has the fewest tasks in flight (fairness), then the oldest.
 *
 * It must be a single writer: "is a slot free, and who gets it" is a read-then-write that two
 * isolates would race, double-booking slots. Every pick runs synchronously against SQLite
 * storage, with no await between reading the counts and marking the task in flight.
 *
 * State: one row per task it knows (ready or in flight) in SQLite storage, plus the dispatch
 * sequence and the paused flag, so all of it survives eviction. D1 stays the truth about tasks;
 * if this object's rows were lost, the minute-by-minute reconcile (src/tasks/reconcile.ts)
 * re-enqueues queued tasks and releases finished ones. One object is a throughput ceiling
 * (roughly a thousand picks a second), far above what the queue consumers can run.
 */
export class TaskDispatcher extends DurableObject<Env> implements DispatcherRpc {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS slots (
      task_id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, rank INTEGER NOT NULL, eligible_at INTEGER NOT NULL,
      state TEXT NOT NULL, seq INTEGER, dispatched_at INTEGER)`);
    ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS slots_ready ON slots (state, eligible_at)');
    ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS slots_owner ON slots (owner_id, state)');
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  }

  private setting(key: string): number {
    return this.ctx.storage.sql.exec<{ value: number }>('SELECT value FROM settings WHERE key = ?', key).toArray()[0]?.value ?? 0;
  }

  private setSetting(key: string, value: number): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      key,
      value,
    );
  }

  /** Adds tasks to the backlog (known ones are ignored, so enqueueing is idempotent) and dispatches. */
  async enqueue(items: DispatchItem[]): Promise<void> {
    for (const it of items) {
      this.ctx.storage.sql.exec(
        "INSERT INTO slots (task_id, owner_id, rank, eligible_at, state) VALUES (?, ?, ?, ?, 'ready') ON CONFLICT(task_id) DO NOTHING",
        it.taskId,
        it.ownerId,
        PRIORITY_RANK[it.priority],
        it.eligibleAt,
      );
    }
    await this.pump();
  }

  /** Frees the slots of tasks that finished (or were cancelled, or handed over to a run), then dispatches. */
  async release(taskIds: number[]): Promise<void> {
    for (const id of taskIds) this.ctx.storage.sql.exec('DELETE FROM slots WHERE task_id = ?', id);
    await this.pump();
  }

  /**
   * Sends again the messages of tasks whose messages were lost (found by the reconcile). The
   * task holds a slot from now on, whatever this object knew about it before.
   */
  async redispatch(items: DispatchItem[]): Promise<void> {
    const messages: TaskMessage[] = [];
    const now = Date.now();
    for (const it of items) {
      const known = this.ctx.storage.sql.exec<{ seq: number | null }>('SELECT seq FROM slots WHERE task_id = ?', it.taskId).toArray()[0];
      const seq = known?.seq ?? this.nextSeq();
      this.ctx.storage.sql.exec(
        `INSERT INTO slots (task_id, owner_id, rank, eligible_at, state, seq, dispatched_at) VALUES (?, ?, ?, ?, 'inflight', ?, ?)
         ON CONFLICT(task_id) DO UPDATE SET state = 'inflight', seq = excluded.seq, dispatched_at = excluded.dispatched_at`,
        it.taskId,
        it.ownerId,
        PRIORITY_RANK[it.priority],
        it.eligibleAt,
        seq,
        now,
      );
      messages.push({ kind: 'run', task_id: it.taskId, seq });
    }
    if (messages.length) await this.send(messages);
  }

  /** Tasks holding a slot, for the reconcile to compare with D1. */
  inFlight(): { taskId: number; dispatchedAt: number }[] {
    return this.ctx.storage.sql
      .exec<{ task_id: number; dispatched_at: number }>("SELECT task_id, dispatched_at FROM slots WHERE state = 'inflight'")
      .toArray()
      .map((r) => ({ taskId: r.task_id, dispatchedAt: r.dispatched_at }));
  }

  async pause(): Promise<DispatcherStatus> {
    this.setSetting('paused', 1);
    return this.status();
  }

  async resume(): Promise<DispatcherStatus> {
    this.setSetting('paused', 0);
    await this.pump();
    return this.status();
  }

  /** Counts from storage, and the next `limit` ready tasks in the order they would start (caps aside). */
  status(limit = 10): DispatcherStatus {
    const now = Date.now();
    const count = (state: string) =>
      this.ctx.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM slots WHERE state = ?', state).one().n;
    const next = this.ctx.storage.sql
      .exec<{ task_id: number }>(
        `SELECT task_id FROM slots WHERE state = 'ready' AND eligible_at <= ? ORDER BY ${EFFECTIVE_RANK} DESC, eligible_at, task_id LIMIT ?`,
        now,
        now,
        AGING_MS,
        limit,
      )
      .toArray()
      .map((r) => r.task_id);
    return {
      paused: this.setting('paused') === 1,
      ready: count('ready'),
      in_flight: count('inflight'),
      global_cap: GLOBAL_IN_FLIGHT,
      per_user_cap: PER_USER_IN_FLIGHT,
      next_up: next,
    };
  }

  override async alarm(): Promise<void> {
    await this.pump();
  }

  private nextSeq(): number {
    const seq = this.setting('seq') + 1;
    this.setSetting('seq', seq);
    return seq;
  }

  /**
   * Fills free slots. The picks and their marking happen synchronously, before the one await
   * (the send), so a concurrent call cannot pick the same task or overfill a slot.
   *
   * One query per pump reads each owner's next ready tasks in that owner's order (at most as
   * many as the per-user cap could start); the picks then compare only the owners' heads, with
   * in-flight counts kept up to date in memory. That is the same choice as asking SQLite for the
   * single best task before every pick, which sorted the whole backlog each time.
   */
  private async pump(): Promise<void> {
    const now = Date.now();
    const picked: TaskMessage[] = [];
    if (this.setting('paused') !== 1) {
      let inFlight = this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM slots WHERE state = 'inflight'").one().n;
      if (inFlight < GLOBAL_IN_FLIGHT) {
        const running = new Map<number, number>();
        for (const r of this.ctx.storage.sql.exec<{ owner_id: number; n: number }>(
          "SELECT owner_id, count(*) AS n FROM slots WHERE state = 'inflight' GROUP BY owner_id",
        )) {
          running.set(r.owner_id, r.n);
        }
        const queues = new Map<number, Candidate[]>();
        for (const c of this.ctx.storage.sql.exec<Candidate>(CANDIDATES, now, AGING_MS, now, AGING_MS, now, PER_USER_IN_FLIGHT)) {
          const q = queues.get(c.owner_id);
          if (q) q.push(c);
          else queues.set(c.owner_id, [c]);
        }
        while (inFlight < GLOBAL_IN_FLIGHT) {
          let best: Candidate | undefined;
          for (const [owner, q] of queues) {
            const head = q[0];
            if (!head || (running.get(owner) ?? 0) >= PER_USER_IN_FLIGHT) continue;
            if (!best || before(head, best, running)) best = head;
          }
          if (!best) break;
          queues.get(best.owner_id)!.shift();
          running.set(best.owner_id, (running.get(best.owner_id) ?? 0) + 1);
          const seq = this.nextSeq();
          this.ctx.storage.sql.exec(
            "UPDATE slots SET state = 'inflight', seq = ?, dispatched_at = ? WHERE task_id = ?",
            seq,
            now,
            best.task_id,
          );
          picked.push({ kind: 'run', task_id: best.task_id, seq });
          inFlight++;
        }
      }
    }
    // Wake for the earliest delayed task; a task blocked only by a cap waits for a release.
    const wake = this.ctx.storage.sql
      .exec<{ at: number | null }>("SELECT min(eligible_at) AS at FROM slots WHERE state = 'ready' AND eligible_at > ?", now)
      .one().at;
    if (wake !== null) await this.wakeBy(wake);
    if (picked.length) await this.send(picked);
  }

  /** An object has one alarm: keep whichever wake-up is earlier. */
  private async wakeBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at || current < Date.now()) await this.ctx.storage.setAlarm(at);
  }

  private async send(messages: TaskMessage[]): Promise<void> {
    try {
      for (let i = 0; i < messages.length; i += 100) {
        await this.env.TASKS_QUEUE.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: 'json' as const })));
      }
    } catch (err) {
      // The queue refused: put the tasks back and try again shortly rather than lose them.
      for (const m of messages)
        this.ctx.storage.sql.exec("UPDATE slots SET state = 'ready', seq = NULL WHERE task_id = ? AND seq = ?", m.task_id, m.seq);
      await this.wakeBy(Date.now() + 5000);
      log(this.env.LOG_LEVEL, 'error', 'dispatcher could not send to the tasks queue', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/*
 * Priority plus one whole level per AGING_MS waited, capped at critical (parameters: now,
 * aging). The CAST matters: JS numbers are bound as REAL, which would make the division
 * fractional and let a millisecond of age outrank fairness.
 */
const EFFECTIVE_RANK = 'min(3, rank + CAST((? - eligible_at) / ? AS INTEGER))';

type Candidate = { task_id: number; owner_id: number; eligible_at: number; eff: number };

/**
 * Each owner's next ready tasks, in the order that owner's tasks start: aged priority, then age
 * (parameters: now, aging, now, aging, now, how many per owner).
 */
const CANDIDATES = `SELECT task_id, owner_id, eligible_at, eff FROM (
    SELECT task_id, owner_id, eligible_at, ${EFFECTIVE_RANK} AS eff,
      row_number() OVER (PARTITION BY owner_id ORDER BY ${EFFECTIVE_RANK} DESC, eligible_at, task_id) AS pos
    FROM slots WHERE state = 'ready' AND eligible_at <= ?)
  WHERE pos <= ? ORDER BY owner_id, pos`;

/** Whether `a` starts before `b`: by aged priority, then fairness (fewer in flight), then age. */
function before(a: Candidate, b: Candidate, running: Map<number, number>): boolean {
  if (a.eff !== b.eff) return a.eff > b.eff;
  const ra = running.get(a.owner_id) ?? 0;
  const rb = running.get(b.owner_id) ?? 0;
  if (ra !== rb) return ra < rb;
  if (a.eligible_at !== b.eligible_at) return a.eligible_at < b.eligible_at;
  return a.task_id < b.task_id;
}
