import { newSession, type Session } from '../lib/api';
import { request, retrying } from '../lib/http';
import { metered, profileOurs, startOurs } from '../lib/ours';
import { rssMiB } from '../lib/procs';
import { figure, quantile } from '../lib/stats';
import type { Row, Scenario } from '../lib/types';
import type { Running } from '../lib/workers';

/**
 * Scenario 5 — schedules. SCHEDULES interval schedules (every hour, no target: a fire is only
 * recorded) are created with the same `start_at`, a whole second LEAD_S ahead, so all are due at
 * that second. Lateness per fire = `fired_at − due_at` from `schedule_fires` (the schedule
 * timer's own clock when it fired; no jitter is set, so due_at is the start second). The time at
 * which the bench first sees each fire in D1 (polling every 100 ms) is reported as a check. No
 * peer: the target is absolute. One repetition = a new set of schedules on the same worker.
 */
const SCHEDULES = 100;
const LEAD_S = 10;
const base = '/api/v3/scheduler/schedules';

async function createAll(s: Session, startAt: number, rep: number): Promise<number[]> {
  const ids: number[] = [];
  let next = 0;
  // Eight at a time: creation is part of the set-up, not of what is measured.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < SCHEDULES) {
        const i = next++;
        const body = { name: `bench-${rep}-${i}`, every_seconds: 3600, start_at: new Date(startAt).toISOString() };
        const res = await request(`${s.base}${base}/interval`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}` },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`creating a schedule answered ${res.status}: ${text.slice(0, 300)}`);
        ids.push((JSON.parse(text) as { id: number }).id);
      }
    }),
  );
  return ids;
}

type Rep = { lateness: number[]; seen: number[]; missing: number; doubled: number; cpuMs: number | null; peakMiB: number | null };

async function oneRep(ours: Running, s: Session, rep: number): Promise<Rep> {
  const db = await ours.mf.getD1Database('DB');
  const dueAt = Math.ceil((Date.now() + LEAD_S * 1000) / 1000) * 1000;
  const ids = await createAll(s, dueAt, rep);
  if (Date.now() > dueAt - 1000) throw new Error(`creating ${SCHEDULES} schedules took longer than the ${LEAD_S} s lead`);
  const m = await metered(ours.pid, async () => {
    const seen = new Map<number, number>();
    const until = dueAt + 15_000;
    let rows: { schedule_id: number; lateness: number }[] = [];
    while (Date.now() < until) {
      const r = await retrying(() =>
        db
          .prepare(
            `SELECT schedule_id, fired_at - due_at AS lateness FROM schedule_fires WHERE schedule_id IN (${ids.join(',')}) AND manual = 0`,
          )
          .all<{ schedule_id: number; lateness: number }>(),
      );
      rows = r.results;
      for (const f of rows) if (!seen.has(f.schedule_id)) seen.set(f.schedule_id, Date.now() - dueAt);
      if (new Set(rows.map((f) => f.schedule_id)).size === SCHEDULES) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const distinct = new Set(rows.map((f) => f.schedule_id)).size;
    return {
      lateness: rows.map((f) => f.lateness),
      seen: [...seen.values()],
      missing: SCHEDULES - distinct,
      doubled: rows.length - distinct,
    };
  });
  return { ...m.result, cpuMs: m.cpuMs, peakMiB: m.peakMiB };
}

export const schedules: Scenario = {
  id: 5,
  slug: 'schedules',
  title: 'schedules',
  peer: '—',
  target: 'lateness p99 ≤ 1 s',
  budgetMs: 60_000,
  missing: (ctx) =>
    ctx.paths === null
      ? 'our worker did not build or start'
      : ctx.paths.has(`${base}/interval`)
        ? null
        : `${base}/interval is not declared in our OpenAPI document yet`,
  async run(ctx) {
    const ours = await startOurs(ctx);
    try {
      const s = await newSession(ours.url, 'schedules');
      const idle = rssMiB(ours.pid);
      const reps: Rep[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        reps.push(await oneRep(ours, s, rep));
        const r = reps[rep]!;
        ctx.log(
          `  rep ${rep + 1}: ${SCHEDULES - r.missing} fired, lateness p99 ${quantile(r.lateness, 0.99)} ms, missing ${r.missing}, doubled ${r.doubled}`,
        );
      }
      const f = (pick: (r: Rep) => number, unit: string) => figure(reps.map(pick), unit);
      const p99 = f((r) => quantile(r.lateness, 0.99), 'ms');
      const rows: Row[] = [
        { metric: `lateness p99, ${SCHEDULES} schedules due at one second`, ours: p99, peer: null, ratio: null },
        { metric: 'lateness p50', ours: f((r) => quantile(r.lateness, 0.5), 'ms'), peer: null, ratio: null },
        { metric: 'lateness max', ours: f((r) => Math.max(...r.lateness), 'ms'), peer: null, ratio: null },
        {
          metric: 'fire visible in D1 (bench poll), p99',
          ours: f((r) => quantile(r.seen, 0.99), 'ms'),
          peer: null,
          ratio: null,
          note: 'includes up to 100 ms of polling',
        },
      ];
      const lost = reps.reduce((n, r) => n + r.missing + r.doubled, 0);
      const met = p99.median <= 1000 && lost === 0;
      const outcome = {
        rows,
        targets: [
          {
            text: 'lateness p99 ≤ 1 s',
            met,
            detail: `median p99 ${p99.median} ms over ${ctx.reps} repetitions; missing or doubled fires: ${lost}`,
          },
        ],
        memory: [{ worker: 'ours', idleMiB: idle, loadedMiB: null, peakMiB: Math.max(...reps.map((r) => r.peakMiB ?? 0)) || null }],
        lost,
        notes: [
          `${SCHEDULES} interval schedules per repetition, created ${LEAD_S} s ahead with the same start_at; no target, so only the fire itself is timed`,
        ],
      };
      if (ctx.profile === 'always' || (ctx.profile === 'auto' && !met)) {
        ctx.log('  profiling our isolate and local D1 during one more repetition');
        const p = await profileOurs(ctx, ours, () => oneRep(ours, s, ctx.reps));
        return { ...outcome, profiles: p.profiles };
      }
      return outcome;
    } finally {
      await ours.dispose();
    }
  },
};
