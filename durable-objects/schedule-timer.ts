import { DurableObject } from 'cloudflare:workers';
import { tickSchedule, type TickResult } from '../src/scheduler/fire';
import type { TimerRpc } from '../src/scheduler/rpc';

/**
 * ScheduleTimer — one object per schedule (`idFromName("schedule:<id>")`), whose alarm is the
 * schedule's clock. Cron Triggers fire at most once a minute; a Durable Object alarm can be set
 * to the millisecond and is delivered at least once (retried with backoff if the handler
 * throws), so it gives schedules second-level precision.
 *
 * What it owns is only the timer: the schedule's definition, its next fire time and the fire
 * ledger live in D1, and firing is `tickSchedule` (src/scheduler/fire.ts). It is the single
 * place a schedule's ticks run, one at a time (`serial`), so the alarm, the minute-by-minute
 * reconcile and a task finishing never interleave their ticks on one schedule; exactly-once per
 * fire time does not depend on that, though — the ledger's unique key does.
 *
 * Survives eviction: the schedule id (storage) and the alarm. Lost to a redeploy bug or a
 * deleted storage, the alarm is re-armed by the cron reconcile (src/scheduler/reconcile.ts),
 * which also fires anything the missing alarm should have.
 */
export class ScheduleTimer extends DurableObject<Env> implements TimerRpc {
  private chain: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier call has settled; the in-memory chain only orders this instance's calls. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Points the alarm at `at` (null: no alarm, e.g. paused). */
  async arm(scheduleId: number, at: number | null): Promise<void> {
    await this.serial(async () => {
      await this.ctx.storage.put('scheduleId', scheduleId);
      if (at === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(at);
    });
  }

  /** The schedule is gone: forget it. */
  async disarm(): Promise<void> {
    await this.serial(async () => {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
    });
  }

  /** Re-arms if the alarm is missing or later than `at`; true when it had to. */
  async ensureArmed(scheduleId: number, at: number): Promise<boolean> {
    return this.serial(async () => {
      await this.ctx.storage.put('scheduleId', scheduleId);
      const current = await this.ctx.storage.getAlarm();
      if (current !== null && current <= at) return false;
      await this.ctx.storage.setAlarm(at);
      return true;
    });
  }

  async alarmAt(): Promise<number | null> {
    return this.ctx.storage.getAlarm();
  }

  /** Fires what is due (from the cron reconcile, or after a task of this schedule ended). */
  async tick(scheduleId: number, source: 'cron' | 'task'): Promise<TickResult> {
    await this.ctx.storage.put('scheduleId', scheduleId);
    return this.serial(() => this.run(scheduleId, source === 'cron' ? 'cron' : 'alarm'));
  }

  override async alarm(): Promise<void> {
    const id = await this.ctx.storage.get<number>('scheduleId');
    if (typeof id !== 'number') return;
    await this.serial(() => this.run(id, 'alarm'));
  }

  private async run(scheduleId: number, source: 'alarm' | 'cron'): Promise<TickResult> {
    const result = await tickSchedule(this.env, scheduleId, source);
    if (result.gone) await this.ctx.storage.deleteAll();
    if (result.wakeAt === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(result.wakeAt);
    return result;
  }
}
