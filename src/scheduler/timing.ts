import { Cron } from 'croner';

/**
 * When a schedule fires. Cron, daily, weekly and monthly schedules are cron patterns (the last
 * three derived from their fields) evaluated by croner in the schedule's IANA time zone, which
 * is what makes them DST-correct: a daily 09:00 in Europe/Madrid is 08:00 UTC in winter and 07:00
 * in summer. In a spring-forward gap a fixed time (02:30) runs at the first valid time after
 * the gap; in a fall-back overlap it runs once, at the first occurrence; patterns with
 * wildcards or steps in the time fields run on both occurrences of the repeated hour.
 * Interval schedules ignore zones: they fire at anchor + k × every_seconds.
 */
export type Timing = {
  kind: string;
  cronExpression: string | null;
  everySeconds: number | null;
  anchorAt: number | null;
  timezone: string;
};

/** Fires closer together than this are refused: each fire is a D1 write and a queue message. */
export const MIN_SPACING_SECONDS = 10;

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** croner in "5 or 6 fields" mode: minute-level patterns, or with a leading seconds field. */
function cronOf(expression: string, timezone: string): Cron {
  return new Cron(expression, { timezone, paused: true, mode: '5-or-6-parts' });
}

/** Why a cron expression cannot be used, or null. */
export function cronProblem(expression: string, timezone: string): string | null {
  try {
    const next = cronOf(expression, timezone).nextRun(new Date());
    return next ? null : 'the expression never fires';
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).replace(/^CronPattern: /, '');
  }
}

/** The pattern for a daily/weekly/monthly schedule: `s m h dom * dow` (six fields, seconds first). */
export function derivedCron(
  kind: 'daily' | 'weekly' | 'monthly',
  time: string,
  opts: { weekdays?: Weekday[]; dayOfMonth?: number | 'last' } = {},
): string {
  const [h, m, s = '0'] = time.split(':');
  const hms = `${Number(s)} ${Number(m)} ${Number(h)}`;
  if (kind === 'daily') return `${hms} * * *`;
  if (kind === 'weekly') return `${hms} * * ${(opts.weekdays ?? ['mon']).map((d) => WEEKDAYS.indexOf(d)).join(',')}`;
  return `${hms} ${opts.dayOfMonth === 'last' ? 'L' : (opts.dayOfMonth ?? 1)} * *`;
}

/** The first fire strictly after `after` (ms), or null if there is none. */
export function nextFireAfter(t: Timing, after: number): number | null {
  if (t.kind === 'interval') {
    const every = t.everySeconds! * 1000;
    const anchor = t.anchorAt!;
    if (after < anchor) return anchor;
    return anchor + (Math.floor((after - anchor) / every) + 1) * every;
  }
  return cronOf(t.cronExpression!, t.timezone).nextRun(new Date(after))?.getTime() ?? null;
}

/** The next `count` fires after `from`. */
export function preview(t: Timing, from: number, count: number): number[] {
  const out: number[] = [];
  let at = from;
  while (out.length < count) {
    const next = nextFireAfter(t, at);
    if (next === null) break;
    out.push(next);
    at = next;
  }
  return out;
}

/** Why a timing is unusable (too frequent), or null. Checked over the next fires from `from`. */
export function spacingProblem(t: Timing, from: number): string | null {
  const fires = preview(t, from, 12);
  for (let i = 1; i < fires.length; i++) {
    if (fires[i]! - fires[i - 1]! < MIN_SPACING_SECONDS * 1000) return `fires must be at least ${MIN_SPACING_SECONDS} seconds apart`;
  }
  return fires.length ? null : 'the schedule never fires';
}

/**
 * This fire's jitter in ms, in [0, jitterSeconds]: a hash of (schedule, fire time), so the alarm
 * and the cron reconcile agree on when a fire is due without storing anything.
 */
export function jitterMs(scheduleId: number, fireAt: number, jitterSeconds: number): number {
  if (jitterSeconds <= 0) return 0;
  let h = 0x811c9dc5;
  for (const ch of `${scheduleId}:${fireAt}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h % (jitterSeconds * 1000 + 1);
}
