import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarize, type CpuProfile, type ProfileSummary } from '../lib/profile';
import { rssMiB } from '../lib/procs';
import { figure } from '../lib/stats';
import type { Row, Scenario } from '../lib/types';
import { CONVERTER_STANDIN } from '../lib/ours';
import { startWorker } from '../lib/workers';

/**
 * Scenario 6 — size and start. Size: what `wrangler deploy --dry-run` would upload, as wrangler
 * reports it ("Total Upload … / gzip …", the figure Cloudflare's 1 MiB compressed limit for the
 * free plan applies to), and our own gzip -9 of the same files as a check. Start: per
 * repetition, a fresh workerd is started through Miniflare (which compiles and evaluates the
 * worker's modules before it listens) and timed until ready, then the first request is timed
 * (`GET /health` for ours: liveness, no binding; `GET /` for the peer). Workerd's own start-up is
 * in both, and Miniflare sets up more services for ours (D1, KV, queues), so the worker's own
 * share is measured separately: `wrangler check startup` profiles the evaluation of the worker's
 * global scope in workerd, and the startup CPU is the sum of that profile's non-idle samples.
 */
async function startupCpu(root: string, cwd: string): Promise<{ ms: number; profile: CpuProfile }> {
  const outfile = path.join(mkdtempSync(path.join(tmpdir(), 'dwc-bench-startup-')), 'startup.cpuprofile');
  const wrangler = path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [wrangler, 'check', 'startup', '--outfile', outfile], {
      cwd,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0', CI: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler check startup failed in ${cwd}: ${err.slice(-500)}`)),
    );
  });
  const profile = JSON.parse(readFileSync(outfile, 'utf8')) as CpuProfile;
  rmSync(path.dirname(outfile), { recursive: true, force: true });
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  let us = 0;
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) us += profile.timeDeltas[i + 1] ?? 0;
  });
  return { ms: us / 1000, profile };
}

export const sizeStart: Scenario = {
  id: 6,
  slug: 'size-start',
  title: 'size and start',
  peer: 'bare Hono hello-world worker',
  target: '≤ 1 MiB gzipped; reported next to the peer',
  budgetMs: 40_000,
  missing: () => null,
  async run(ctx) {
    const [ours, peer] = [await ctx.build('ours'), await ctx.build('hello')];
    const startup = { ours: [] as number[], peer: [] as number[] };
    let profile: ProfileSummary | null = null;
    for (let rep = 0; rep < ctx.reps; rep++) {
      const o = await startupCpu(ctx.root, ctx.root);
      startup.ours.push(o.ms);
      startup.peer.push((await startupCpu(ctx.root, path.dirname(peer.configPath))).ms);
      // The same wrangler and config produce the same bundle, so our build maps its lines.
      if (rep === 0) profile = summarize('startup of our worker (wrangler check startup)', o.profile, ours.modules[0]!.path);
    }
    const timings = {
      ours: { ready: [] as number[], first: [] as number[], rss: [] as number[] },
      peer: { ready: [] as number[], first: [] as number[], rss: [] as number[] },
    };
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const [key, b, route] of [
        ['ours', ours, '/health'],
        ['peer', peer, '/'],
      ] as const) {
        const running = await startWorker(b, key === 'ours' ? { extra: CONVERTER_STANDIN } : {});
        try {
          const t = performance.now();
          const res = await fetch(running.url + route);
          await res.text();
          if (!res.ok) throw new Error(`${b.name} ${route} answered ${res.status}`);
          timings[key].ready.push(running.startMs);
          timings[key].first.push(performance.now() - t);
          const rss = rssMiB(running.pid);
          if (rss !== null) timings[key].rss.push(rss);
        } finally {
          await running.dispose();
        }
      }
    }
    const kib = (bytes: number) => bytes / 1024;
    const one = (v: number | null, u: string) => (v === null ? null : figure([v], u));
    const ratio = (a: number[], b: number[]) =>
      figure(
        a.map((x, i) => x / b[i]!),
        '×',
      );
    const gz = ours.wranglerGzipKiB;
    const rows: Row[] = [
      {
        metric: 'gzipped upload (wrangler)',
        ours: one(gz, 'KiB'),
        peer: one(peer.wranglerGzipKiB, 'KiB'),
        ratio: gz && peer.wranglerGzipKiB ? figure([gz / peer.wranglerGzipKiB], '×') : null,
      },
      {
        metric: 'upload, uncompressed (wrangler)',
        ours: one(ours.wranglerUploadKiB, 'KiB'),
        peer: one(peer.wranglerUploadKiB, 'KiB'),
        ratio: null,
      },
      {
        metric: 'gzip -9 of the bundle (our count)',
        ours: figure([kib(ours.gzipBytes)], 'KiB'),
        peer: figure([kib(peer.gzipBytes)], 'KiB'),
        ratio: null,
      },
      {
        metric: 'startup CPU (global scope, wrangler check startup)',
        ours: figure(startup.ours, 'ms'),
        peer: figure(startup.peer, 'ms'),
        ratio: null,
      },
      {
        metric: 'workerd start until ready',
        ours: figure(timings.ours.ready, 'ms'),
        peer: figure(timings.peer.ready, 'ms'),
        ratio: ratio(timings.ours.ready, timings.peer.ready),
      },
      {
        metric: 'first request after start',
        ours: figure(timings.ours.first, 'ms'),
        peer: figure(timings.peer.first, 'ms'),
        ratio: ratio(timings.ours.first, timings.peer.first),
      },
      { metric: 'wrangler build time', ours: figure([ours.buildMs], 'ms'), peer: figure([peer.buildMs], 'ms'), ratio: null },
    ];
    const limitKiB = 1024;
    return {
      rows,
      targets: [
        {
          text: '≤ 1 MiB gzipped',
          met: gz === null ? null : gz <= limitKiB,
          detail:
            gz === null ? 'wrangler printed no size' : `${gz.toFixed(1)} KiB of ${limitKiB} KiB (${((gz / limitKiB) * 100).toFixed(0)}%)`,
        },
      ],
      memory: [
        {
          worker: 'ours',
          idleMiB: timings.ours.rss.length ? figure(timings.ours.rss, 'MiB').median : null,
          loadedMiB: null,
          peakMiB: null,
          note: 'just started',
        },
        {
          worker: 'peer (hello)',
          idleMiB: timings.peer.rss.length ? figure(timings.peer.rss, 'MiB').median : null,
          loadedMiB: null,
          peakMiB: null,
          note: 'just started',
        },
      ],
      lost: 0,
      notes: [
        'sizes are single figures (a build is deterministic); start times are medians over fresh workerd processes',
        'startup CPU: the sum of non-idle samples of `wrangler check startup` (about 1 ms per sample, so a worker whose global scope takes under a millisecond shows 0)',
      ],
      profiles: profile ? [profile] : [],
    };
  },
};
