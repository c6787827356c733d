import { describe, expect, it } from 'vitest';
import {
  cronProblem,
  derivedCron,
  jitterMs,
  nextFireAfter,
  preview,
  spacingProblem,
  validTimezone,
  type Timing,
} from '../../src/scheduler/timing';

const cron = (cronExpression: string, timezone = 'UTC'): Timing => ({
  kind: 'cron',
  cronExpression,
  everySeconds: null,
  anchorAt: null,
  timezone,
});
const at = (iso: string) => Date.parse(iso);
const isoList = (ms: number[]) => ms.map((m) => new Date(m).toISOString());

describe("fire times across DST changes (croner, in the schedule's zone)", () => {
  it('keeps a daily 09:00 at 09:00 local when Europe/Madrid springs forward', () => {
    expect(isoList(preview(cron('0 9 * * *', 'Europe/Madrid'), at('2026-03-27T00:00:00Z'), 4))).toEqual([
      '2026-03-27T08:00:00.000Z',
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
  });

  it('runs a time that does not exist (02:30 on the spring-forward day) at the first valid time after the gap', () => {
    expect(isoList(preview(cron('30 2 * * *', 'America/New_York'), at('2026-03-07T00:00:00Z'), 3))).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:30 does not exist that night
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
  });

  it('runs a repeated time (01:30 on the fall-back day) once, and hourly wildcards on both occurrences', () => {
    expect(isoList(preview(cron('30 1 * * *', 'America/New_York'), at('2026-10-31T12:00:00Z'), 2))).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    expect(isoList(preview(cron('30 * * * *', 'America/New_York'), at('2026-11-01T05:00:00Z'), 3))).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T06:30:00.000Z', // 01:30 EST, the hour repeated
      '2026-11-01T07:30:00.000Z', // 02:30 EST
    ]);
  });

  it('supports a leading seconds field, and UTC by default', () => {
    expect(isoList(preview(cron('15 0 12 * * *'), at('2026-01-01T00:00:00Z'), 2))).toEqual([
      '2026-01-01T12:00:15.000Z',
      '2026-01-02T12:00:15.000Z',
    ]);
  });
});

describe('schedule timing rules', () => {
  it('derives cron patterns for daily, weekly and monthly schedules', () => {
    expect(derivedCron('daily', '09:30')).toBe('0 30 9 * * *');
    expect(derivedCron('weekly', '18:00:05', { weekdays: ['mon', 'fri'] })).toBe('5 0 18 * * 1,5');
    expect(derivedCron('monthly', '02:00', { dayOfMonth: 'last' })).toBe('0 0 2 L * *');
    expect(isoList(preview(cron(derivedCron('monthly', '02:00', { dayOfMonth: 'last' })), at('2026-01-15T00:00:00Z'), 2))).toEqual([
      '2026-01-31T02:00:00.000Z',
      '2026-02-28T02:00:00.000Z',
    ]);
  });

  it('explains bad expressions and zones', () => {
    expect(cronProblem('61 * * * *', 'UTC')).toMatch(/minute/);
    expect(cronProblem('every day', 'UTC')).toMatch(/five, six/);
    expect(cronProblem('0 0 1 1 * 2030', 'UTC')).not.toBeNull(); // 6 fields are seconds-first; no year field
    expect(validTimezone('Europe/Madrid')).toBe(true);
    expect(validTimezone('Mars/Olympus')).toBe(false);
  });

  it('refuses schedules that fire more often than every 10 seconds', () => {
    expect(spacingProblem(cron('*/5 * * * * *'), Date.now())).toMatch(/10 seconds/);
    expect(spacingProblem(cron('*/10 * * * * *'), Date.now())).toBeNull();
  });

  it('puts interval fires on the anchor grid', () => {
    const t: Timing = { kind: 'interval', cronExpression: null, everySeconds: 60, anchorAt: 1_000_000, timezone: 'UTC' };
    expect(nextFireAfter(t, 0)).toBe(1_000_000);
    expect(nextFireAfter(t, 1_000_000)).toBe(1_060_000);
    expect(nextFireAfter(t, 1_059_999)).toBe(1_060_000);
  });

  it('derives the same jitter for the same fire, within bounds', () => {
    const j = jitterMs(7, 1_700_000_000_000, 30);
    expect(j).toBe(jitterMs(7, 1_700_000_000_000, 30));
    expect(j).toBeGreaterThanOrEqual(0);
    expect(j).toBeLessThanOrEqual(30_000);
    expect(jitterMs(7, 1_700_000_000_000, 0)).toBe(0);
    const spread = new Set(Array.from({ length: 50 }, (_, i) => jitterMs(7, i * 60_000, 30)));
    expect(spread.size).toBeGreaterThan(40);
  });
});
