import { createWorkflow, liftUserRateLimits, newSession, transformChain } from '../lib/api';
import { autocannon, type LoadResult } from '../lib/load';
import { metered, profileOurs, startOurs } from '../lib/ours';
import { rssMiB } from '../lib/procs';
import { figure, type Figure } from '../lib/stats';
import type { Row, Scenario } from '../lib/types';
import { startWorker } from '../lib/workers';

/**
 * Scenario 1 — the hot read path. autocannon (its own process) holds CONNECTIONS keep-alive
 * connections to one worker at a time and sends `GET /api/v3/workflows/:id` with a valid access
 * token, so every request verifies the JWT, checks the session in D1, is counted by the user's
 * RateLimiter object (one RPC) and reads the workflow from D1. The peer is Hono's hello-world. Repetitions alternate ours and the peer, so slow drift of
 * the machine hits both; the ratio is taken per repetition, then its median.
 *
 * "Cache warm" here means a warm isolate (JIT, the JWT key) and warm SQLite pages: the route has
 * no cache of its own (nothing in src/ caches workflows), so each repetition is preceded by a
 * warm-up run that is not counted. Our liveness route (`GET /health`: the global middleware, no
 * binding touched) is measured alongside, which splits our cost into middleware and auth + D1.
 */
const CONNECTIONS = 10;

type Sample = { load: LoadResult; cpuPerReq: number | null; peakMiB: number | null };

export const hotRead: Scenario = {
  id: 1,
  slug: 'hot-read',
  title: 'hot read path',
  peer: 'bare Hono hello-world worker',
  target: "≥ 0.5 of the peer's requests/s; p99 reported",
  budgetMs: 90_000,
  missing: () => null,
  async run(ctx) {
    const durationS = ctx.quick ? 3 : 6;
    const ours = await startOurs(ctx);
    const peer = await startWorker(await ctx.build('hello'));
    try {
      const s = await newSession(ours.url, 'hot-read');
      // Thousands of requests a second from one user: counted by the limiter, but not refused.
      await liftUserRateLimits(s);
      const id = await createWorkflow(s, 'hot read', transformChain(3));
      const targets = {
        ours: { url: `${ours.url}/api/v3/workflows/${id}`, headers: { authorization: `Bearer ${s.token}` }, pid: ours.pid },
        liveness: { url: `${ours.url}/health`, headers: {}, pid: ours.pid },
        peer: { url: `${peer.url}/`, headers: {}, pid: peer.pid },
      };
      const idle = { ours: rssMiB(ours.pid), peer: rssMiB(peer.pid) };
      const measure = async (t: (typeof targets)[keyof typeof targets], seconds: number): Promise<Sample> => {
        const m = await metered(t.pid, () =>
          autocannon(ctx.root, { url: t.url, connections: CONNECTIONS, durationS: seconds, headers: t.headers }),
        );
        const load = m.result;
        if (load.errors || load.non2xx || load.timeouts)
          throw new Error(`${t.url}: ${load.errors} errors, ${load.non2xx} non-2xx, ${load.timeouts} timeouts`);
        return { load, cpuPerReq: m.cpuMs === null || load.total === 0 ? null : m.cpuMs / load.total, peakMiB: m.peakMiB };
      };
      ctx.log('  warming up both workers');
      await measure(targets.ours, ctx.quick ? 2 : 4);
      await measure(targets.peer, 2);
      const samples = { ours: [] as Sample[], liveness: [] as Sample[], peer: [] as Sample[] };
      for (let rep = 0; rep < ctx.reps; rep++) {
        for (const k of ['ours', 'peer', 'liveness'] as const) {
          samples[k].push(await measure(targets[k], k === 'liveness' ? Math.ceil(durationS / 2) : durationS));
        }
        ctx.log(
          `  rep ${rep + 1}: ours ${samples.ours[rep]!.load.requestsPerSec.toFixed(0)} req/s, peer ${samples.peer[rep]!.load.requestsPerSec.toFixed(0)} req/s`,
        );
      }
      const fig = (k: keyof typeof samples, f: (x: Sample) => number | null, unit: string): Figure | null => {
        const v = samples[k].map(f);
        return v.every((x): x is number => x !== null) ? figure(v, unit) : null;
      };
      const ratios = samples.ours.map((o, i) => o.load.requestsPerSec / samples.peer[i]!.load.requestsPerSec);
      const ratio = figure(ratios, '×');
      const rows: Row[] = [
        {
          metric: 'requests/s',
          ours: fig('ours', (x) => x.load.requestsPerSec, 'req/s'),
          peer: fig('peer', (x) => x.load.requestsPerSec, 'req/s'),
          ratio,
        },
        { metric: 'latency p50', ours: fig('ours', (x) => x.load.p50, 'ms'), peer: fig('peer', (x) => x.load.p50, 'ms'), ratio: null },
        { metric: 'latency p99', ours: fig('ours', (x) => x.load.p99, 'ms'), peer: fig('peer', (x) => x.load.p99, 'ms'), ratio: null },
        {
          metric: 'workerd CPU per request',
          ours: fig('ours', (x) => x.cpuPerReq, 'ms'),
          peer: fig('peer', (x) => x.cpuPerReq, 'ms'),
          ratio: null,
        },
        {
          metric: 'our GET /health (middleware only) req/s',
          ours: fig('liveness', (x) => x.load.requestsPerSec, 'req/s'),
          peer: null,
          ratio: figure(
            samples.liveness.map((l, i) => l.load.requestsPerSec / samples.peer[i]!.load.requestsPerSec),
            '×',
          ),
          note: 'ratio against the same peer',
        },
        { metric: 'our GET /health CPU per request', ours: fig('liveness', (x) => x.cpuPerReq, 'ms'), peer: null, ratio: null },
      ];
      const met = ratio.median >= 0.5;
      const outcome = {
        rows,
        targets: [
          { text: "requests/s ≥ 0.5 × peer's", met, detail: `median ratio ${ratio.median.toFixed(3)} over ${ctx.reps} repetitions` },
        ],
        memory: [
          { worker: 'ours', idleMiB: idle.ours, loadedMiB: null, peakMiB: Math.max(...samples.ours.map((x) => x.peakMiB ?? 0)) || null },
          {
            worker: 'peer (hello)',
            idleMiB: idle.peer,
            loadedMiB: null,
            peakMiB: Math.max(...samples.peer.map((x) => x.peakMiB ?? 0)) || null,
          },
        ],
        lost: 0,
        notes: [
          `${CONNECTIONS} connections, ${durationS} s per measurement, ${ctx.reps} alternating repetitions after an uncounted warm-up`,
        ],
      };
      if (ctx.profile === 'always' || (ctx.profile === 'auto' && !met)) {
        ctx.log('  profiling our isolate and local D1 during one more run');
        const p = await profileOurs(ctx, ours, () =>
          autocannon(ctx.root, {
            url: targets.ours.url,
            connections: CONNECTIONS,
            durationS: Math.min(durationS, 5),
            headers: targets.ours.headers,
          }),
        );
        return { ...outcome, profiles: p.profiles };
      }
      return outcome;
    } finally {
      await Promise.allSettled([ours.dispose(), peer.dispose()]);
    }
  },
};
