import { createWorkflow, newSession, startRun, transformChain } from '../lib/api';
import { request, retrying } from '../lib/http';
import { metered, profileOurs, startOurs } from '../lib/ours';
import { rssMiB } from '../lib/procs';
import { figure } from '../lib/stats';
import type { Row, Scenario } from '../lib/types';
import { startWorker, type Running } from '../lib/workers';

/**
 * Scenario 2 — chain step overhead. A batch is RUNS runs started at once (concurrent HTTP
 * requests); its makespan runs from just before the first request to the latest finish time the
 * runs record themselves (ours: `runs.finished_at`, written by each run object; the peer: the time
 * each workflow instance reports after its last step). Each side runs a batch of 1-node chains
 * and a batch of NODES-node chains; the per-node overhead is
 *   (makespan(NODES) − makespan(1)) / (RUNS × (NODES − 1)),
 * which cancels what a run costs once (launch, D1 insert, instance creation) and leaves the cost
 * of one more node when RUNS runs share the machine.
 *
 * Our nodes are `transform` nodes with one `trim` operation, not the `local` AI provider: local
 * generation is real text processing (and a KV cache look-up) whose cost would be counted as
 * engine overhead, while a transform is the cheapest node that still goes through everything the
 * engine does per node (state in storage, events, attempt row, document and D1 projection). The
 * peer is Cloudflare Workflows in Miniflare (same workerd build) with no-op `step.do` steps.
 */
const RUNS = 50;
/**
 * The map measurement: MAP_RUNS runs of one map node over MAP_ITEMS items (a `trim` transform per
 * item, 16 at a time), against MAP_RUNS runs of one node, so the per-item overhead
 *   (makespan(map) − makespan(1)) / (MAP_RUNS × MAP_ITEMS)
 * can be read beside the per-node overhead of a chain.
 */
const MAP_RUNS = 10;
const TERMINAL = "('succeeded','failed','cancelled')";

type Batch = { makespanMs: number; cpuMs: number | null; peakMiB: number | null };

async function waitFor<T>(what: string, timeoutMs: number, poll: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await poll();
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`${what}: not finished after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function oursBatch(ours: Running, launch: () => Promise<number>, runs = RUNS): Promise<Batch> {
  const db = await ours.mf.getD1Database('DB');
  const m = await metered(ours.pid, async () => {
    const t0 = Date.now();
    const ids = await Promise.all(Array.from({ length: runs }, launch));
    const done = await waitFor('our runs', 60_000, async () => {
      const r = await retrying(() =>
        db
          .prepare(
            `SELECT count(*) AS n, coalesce(sum(status = 'succeeded'), 0) AS ok, max(finished_at) AS last FROM runs WHERE id IN (${ids.join(',')}) AND status IN ${TERMINAL}`,
          )
          .first<{ n: number; ok: number; last: number }>(),
      );
      return r && r.n === runs ? r : null;
    });
    if (done.ok !== runs) throw new Error(`${runs - done.ok} of ${runs} runs did not succeed`);
    return done.last - t0;
  });
  return { makespanMs: m.result, cpuMs: m.cpuMs, peakMiB: m.peakMiB };
}

let batches = 0;
async function peerBatch(peer: Running, steps: number): Promise<Batch> {
  const batch = `b${++batches}`;
  const m = await metered(peer.pid, async () => {
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: RUNS }, async () => {
        const res = await fetch(`${peer.url}/start?steps=${steps}&batch=${batch}`, { method: 'POST' });
        if (!res.ok) throw new Error(`peer /start answered ${res.status}: ${await res.text()}`);
      }),
    );
    const done = await waitFor('peer workflows', 30_000, async () => {
      const r = (await (await request(`${peer.url}/done?batch=${batch}`, { retry: true })).json()) as { count: number; last: number };
      return r.count >= RUNS ? r : null;
    });
    return done.last - t0;
  });
  return { makespanMs: m.result, cpuMs: m.cpuMs, peakMiB: m.peakMiB };
}

export const chainOverhead: Scenario = {
  id: 2,
  slug: 'chain-overhead',
  title: 'chain step overhead',
  peer: 'Cloudflare Workflows, no-op step.do steps (Miniflare)',
  target: "per-node overhead ≤ 0.5× the peer's per-step overhead",
  budgetMs: 90_000,
  missing: () => null,
  async run(ctx) {
    const NODES = ctx.quick ? 5 : 10;
    const MAP_ITEMS = ctx.quick ? 20 : 100;
    const ours = await startOurs(ctx);
    const peer = await startWorker(await ctx.build('workflows'));
    try {
      const s = await newSession(ours.url, 'chain');
      const wf = {
        1: await createWorkflow(s, 'chain of 1', transformChain(1)),
        [NODES]: await createWorkflow(s, `chain of ${NODES}`, transformChain(NODES)),
      };
      const launcher = (n: number) => () => startRun(s, wf[n]!, { text: '  Solar power for small farms.  ' });
      const mapWf = await createWorkflow(s, `map of ${MAP_ITEMS}`, [
        {
          id: 'each',
          type: 'map',
          items: '{{input.items}}',
          max_items: MAP_ITEMS,
          concurrency: 16,
          node: { type: 'transform', source: '{{item}}', operations: [{ op: 'trim' }] },
        },
      ]);
      const items = Array.from({ length: MAP_ITEMS }, (_, i) => `  section ${i}  `);
      const mapLauncher = () => startRun(s, mapWf, { items });
      const idle = { ours: rssMiB(ours.pid), peer: rssMiB(peer.pid) };
      ctx.log('  warming up both sides (one small batch each, not counted)');
      await oursBatch(ours, launcher(1));
      await peerBatch(peer, 1);
      const res = { ours1: [] as Batch[], oursN: [] as Batch[], peer1: [] as Batch[], peerN: [] as Batch[] };
      const maps = { one: [] as Batch[], map: [] as Batch[] };
      for (let rep = 0; rep < ctx.reps; rep++) {
        res.ours1.push(await oursBatch(ours, launcher(1)));
        res.oursN.push(await oursBatch(ours, launcher(NODES)));
        maps.one.push(await oursBatch(ours, launcher(1), MAP_RUNS));
        maps.map.push(await oursBatch(ours, mapLauncher, MAP_RUNS));
        res.peer1.push(await peerBatch(peer, 1));
        res.peerN.push(await peerBatch(peer, NODES));
        ctx.log(
          `  rep ${rep + 1}: ours ${res.ours1[rep]!.makespanMs}/${res.oursN[rep]!.makespanMs} ms, peer ${res.peer1[rep]!.makespanMs}/${res.peerN[rep]!.makespanMs} ms (1/${NODES} nodes); map ${maps.one[rep]!.makespanMs}/${maps.map[rep]!.makespanMs} ms (1 node/${MAP_ITEMS} items × ${MAP_RUNS} runs)`,
        );
      }
      const perNode = (one: Batch[], many: Batch[], f: (b: Batch) => number | null) =>
        one.map((b, i) => {
          const a = f(b);
          const z = f(many[i]!);
          return a === null || z === null ? Number.NaN : (z - a) / (RUNS * (NODES - 1));
        });
      const oursNode = perNode(res.ours1, res.oursN, (b) => b.makespanMs);
      const peerNode = perNode(res.peer1, res.peerN, (b) => b.makespanMs);
      const ratio = figure(
        oursNode.map((o, i) => o / peerNode[i]!),
        '×',
      );
      const oursCpu = perNode(res.ours1, res.oursN, (b) => b.cpuMs);
      const peerCpu = perNode(res.peer1, res.peerN, (b) => b.cpuMs);
      const ms = (v: number[]) => figure(v, 'ms');
      const perItem = maps.one.map((b, i) => (maps.map[i]!.makespanMs - b.makespanMs) / (MAP_RUNS * MAP_ITEMS));
      const rows: Row[] = [
        { metric: 'per-node overhead (wall, amortised)', ours: ms(oursNode), peer: ms(peerNode), ratio },
        {
          metric: 'workerd CPU per node',
          ours: ms(oursCpu),
          peer: ms(peerCpu),
          ratio: figure(
            oursCpu.map((o, i) => o / peerCpu[i]!),
            '×',
          ),
        },
        {
          metric: `per-item overhead, map of ${MAP_ITEMS} (wall, amortised; beside our per-node)`,
          ours: ms(perItem),
          peer: ms(oursNode),
          ratio: figure(
            perItem.map((p, i) => p / oursNode[i]!),
            '×',
          ),
        },
        {
          metric: `makespan, ${RUNS} runs × 1 node`,
          ours: ms(res.ours1.map((b) => b.makespanMs)),
          peer: ms(res.peer1.map((b) => b.makespanMs)),
          ratio: null,
        },
        {
          metric: `makespan, ${RUNS} runs × ${NODES} nodes`,
          ours: ms(res.oursN.map((b) => b.makespanMs)),
          peer: ms(res.peerN.map((b) => b.makespanMs)),
          ratio: null,
        },
      ];
      const met = ratio.median <= 0.5;
      const outcome = {
        rows,
        targets: [
          {
            text: "per-node overhead ≤ 0.5 × peer's per-step",
            met,
            detail: `median ratio ${ratio.median.toFixed(2)} over ${ctx.reps} repetitions`,
          },
        ],
        memory: [
          { worker: 'ours', idleMiB: idle.ours, loadedMiB: null, peakMiB: Math.max(...res.oursN.map((b) => b.peakMiB ?? 0)) || null },
          {
            worker: 'peer (workflows)',
            idleMiB: idle.peer,
            loadedMiB: null,
            peakMiB: Math.max(...res.peerN.map((b) => b.peakMiB ?? 0)) || null,
          },
        ],
        lost: 0,
        notes: [
          `${RUNS} runs at once; chains of 1 and ${NODES} nodes; linear chains (node i depends on node i−1); every run checked to succeed`,
          `the map row compares our own two figures, not a peer: its "peer" column is our per-node chain overhead, and its ratio the cost of one map item relative to one chain node (${MAP_RUNS} runs of a ${MAP_ITEMS}-item map, 16 items at a time, against ${MAP_RUNS} runs of one node)`,
        ],
      };
      if (ctx.profile === 'always' || (ctx.profile === 'auto' && !met)) {
        ctx.log(`  profiling our isolate and local D1 during one more batch of ${NODES}-node runs`);
        const p = await profileOurs(ctx, ours, () => oursBatch(ours, launcher(NODES)));
        return { ...outcome, profiles: p.profiles };
      }
      return outcome;
    } finally {
      await Promise.allSettled([ours.dispose(), peer.dispose()]);
    }
  },
};
