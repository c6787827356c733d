import { createWorkflow, getJson, newSession, startRun, transformChain, type Session } from '../lib/api';
import { ClientGroup } from '../lib/fanout';
import { request } from '../lib/http';
import { metered, profileOurs, startOurs } from '../lib/ours';
import { rssMiB } from '../lib/procs';
import { figure } from '../lib/stats';
import type { Memory, Row, Scenario, ScenarioOutcome } from '../lib/types';
import { startWorker, type Running } from '../lib/workers';
import type { RoundStats } from '../lib/ws-clients';

/**
 * Scenario 3 — WebSocket fan-out. N clients (a separate Node process, `ws` package) connect to
 * /api/v3/ws with an access token, send `join_workflow` and wait for `joined`. Then one run of a
 * NODES-node transform chain is started; every client must receive every one of the run's events
 * (the run's `last_event_seq`, read once the run has settled), each sequence number once.
 * Latency per frame = receive time − the run's own timestamp of the event (`event.at`), i.e. from
 * the moment the run emitted it, through the Room and the UserHub, to the client; the two legs
 * (run → room, room → client) are reported too.
 *
 * The peer is a bare hibernation-API object (bench/peers/broadcast): its clients join the same
 * way, and the bench publishes the same number of events, one request after another, padded to
 * the mean size of our frames in that repetition; latency = receive − the object's timestamp.
 * All clients belong to one user, as they must to read one workflow, so ours go through one hub.
 */
const NODES = 5;

type Round = { stats: RoundStats; cpuMs: number | null; peakMiB: number | null };

async function settledRun(s: Session, workflowId: number, runId: number): Promise<number> {
  const path = `/api/v3/workflows/${workflowId}/runs/${runId}`;
  const until = Date.now() + 60_000;
  let last = -1;
  for (;;) {
    const run = await getJson<{ status: string; last_event_seq: number }>(s, path);
    const terminal = ['succeeded', 'failed', 'cancelled'].includes(run.status);
    if (terminal && run.status !== 'succeeded') throw new Error(`fan-out run ${runId} ${run.status}`);
    // Documents are linked (document.created) just after the run's final status: wait until quiet.
    if (terminal && run.last_event_seq === last) return last;
    last = terminal ? run.last_event_seq : -1;
    if (Date.now() > until) throw new Error(`fan-out run ${runId} did not settle in 60 s`);
    await new Promise((r) => setTimeout(r, terminal ? 300 : 100));
  }
}

async function oursRound(ours: Running, clients: ClientGroup, s: Session, workflowId: number): Promise<Round> {
  await clients.arm(null);
  const m = await metered(ours.pid, async () => {
    const runId = await startRun(s, workflowId, { text: ' Fan-out benchmark. ' });
    const expected = await settledRun(s, workflowId, runId);
    return clients.collect(expected, 30_000);
  });
  return { stats: m.result, cpuMs: m.cpuMs, peakMiB: m.peakMiB };
}

let peerSeq = 0;
async function peerRound(peer: Running, clients: ClientGroup, count: number, bytes: number): Promise<Round> {
  await clients.arm(null);
  const m = await metered(peer.pid, async () => {
    for (let i = 0; i < count; i++) {
      const seq = ++peerSeq;
      const res = await request(`${peer.url}/publish`, { method: 'POST', body: JSON.stringify({ seq, bytes }), retry: true });
      if (!res.ok) throw new Error(`peer publish answered ${res.status}`);
      await res.text();
    }
    return clients.collect(count, 30_000);
  });
  return { stats: m.result, cpuMs: m.cpuMs, peakMiB: m.peakMiB };
}

const lostIn = (r: Round) => r.stats.missing + r.stats.duplicates;

/** Runs `fn`, naming the side and workerd's last words if it fails. */
async function side<T>(name: string, w: Running, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const tail = w.stderrTail().trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}${tail ? ` (workerd stderr: ${tail})` : ''}`, {
      cause: err instanceof Error ? err.cause : undefined,
    });
  }
}

async function fanout(ctx: Parameters<Scenario['run']>[0], size: number): Promise<ScenarioOutcome> {
  const ours = await startOurs(ctx);
  const peer = await startWorker(await ctx.build('broadcast'));
  const groups = { ours: ClientGroup.start(), peer: ClientGroup.start() };
  try {
    const s = await newSession(ours.url, `fanout-${size}`);
    const wf = await createWorkflow(s, 'fan-out', transformChain(NODES));
    const idle = { ours: rssMiB(ours.pid), peer: rssMiB(peer.pid) };
    const connectBudget = 30_000 + size * 15;
    const co = await groups.ours.connect(
      `${ours.url.replace('http', 'ws')}/api/v3/ws?token=${s.token}`,
      size,
      { type: 'join_workflow', workflow_id: wf },
      connectBudget,
    );
    const cp = await groups.peer.connect(`${peer.url.replace('http', 'ws')}/ws`, size, { type: 'join' }, connectBudget);
    if (co.failures || cp.failures)
      throw new Error(`clients failed to join: ours ${co.failures} (${co.firstError}), peer ${cp.failures} (${cp.firstError})`);
    ctx.log(`  ${size} clients joined: ours in ${(co.ms / 1000).toFixed(1)} s, peer in ${(cp.ms / 1000).toFixed(1)} s`);
    const loaded = { ours: rssMiB(ours.pid), peer: rssMiB(peer.pid) };
    // One uncounted round each: the first delivery to fresh sockets pays for JIT and buffers.
    const warm = await side('ours', ours, () => oursRound(ours, groups.ours, s, wf));
    const warmPeer = await side('peer', peer, () => peerRound(peer, groups.peer, warm.stats.expected, Math.round(warm.stats.meanBytes)));
    let lost = lostIn(warm) + lostIn(warmPeer);
    const rounds = { ours: [] as Round[], peer: [] as Round[] };
    for (let rep = 0; rep < ctx.reps; rep++) {
      const o = await side('ours', ours, () => oursRound(ours, groups.ours, s, wf));
      const p = await side('peer', peer, () => peerRound(peer, groups.peer, o.stats.expected, Math.round(o.stats.meanBytes)));
      rounds.ours.push(o);
      rounds.peer.push(p);
      ctx.log(
        `  rep ${rep + 1}: ${o.stats.expected} events × ${size}: p99 ours ${o.stats.latency.p99.toFixed(0)} ms, peer ${p.stats.latency.p99.toFixed(0)} ms; lost ${lostIn(o)}/${lostIn(p)}`,
      );
    }
    const f = (side: 'ours' | 'peer', pick: (r: Round) => number | null | undefined, unit: string) => {
      const v = rounds[side].map(pick);
      return v.every((x): x is number => typeof x === 'number' && Number.isFinite(x)) ? figure(v, unit) : null;
    };
    const ratio = figure(
      rounds.ours.map((o, i) => o.stats.latency.p99 / rounds.peer[i]!.stats.latency.p99),
      '×',
    );
    const perMsg = (r: Round) => (r.cpuMs === null ? null : (r.cpuMs * 1000) / Math.max(1, r.stats.received));
    const rows: Row[] = [
      {
        metric: `delivery p99, ${size} clients`,
        ours: f('ours', (r) => r.stats.latency.p99, 'ms'),
        peer: f('peer', (r) => r.stats.latency.p99, 'ms'),
        ratio,
      },
      {
        metric: `delivery p50, ${size} clients`,
        ours: f('ours', (r) => r.stats.latency.p50, 'ms'),
        peer: f('peer', (r) => r.stats.latency.p50, 'ms'),
        ratio: null,
      },
      {
        metric: `delivery max, ${size} clients`,
        ours: f('ours', (r) => r.stats.latency.max, 'ms'),
        peer: f('peer', (r) => r.stats.latency.max, 'ms'),
        ratio: null,
      },
      { metric: `ours: run → room p99`, ours: f('ours', (r) => r.stats.runToRoom?.p99, 'ms'), peer: null, ratio: null },
      { metric: `ours: room → client p99`, ours: f('ours', (r) => r.stats.roomToClient?.p99, 'ms'), peer: null, ratio: null },
      {
        metric: `first publish → last receive`,
        ours: f('ours', (r) => r.stats.spanMs, 'ms'),
        peer: f('peer', (r) => r.stats.spanMs, 'ms'),
        ratio: null,
      },
      {
        metric: `frames delivered per round`,
        ours: f('ours', (r) => r.stats.received, 'frames'),
        peer: f('peer', (r) => r.stats.received, 'frames'),
        ratio: null,
      },
      { metric: `workerd CPU per delivered frame`, ours: f('ours', perMsg, 'µs'), peer: f('peer', perMsg, 'µs'), ratio: null },
      {
        metric: `time for ${size} clients to connect and join`,
        ours: figure([co.ms], 'ms'),
        peer: figure([cp.ms], 'ms'),
        ratio: figure([co.ms / cp.ms], '×'),
      },
    ];
    lost += [...rounds.ours, ...rounds.peer].reduce((n, r) => n + lostIn(r), 0);
    const memory: Memory[] = [
      {
        worker: `ours, ${size} clients`,
        idleMiB: idle.ours,
        loadedMiB: loaded.ours,
        peakMiB: Math.max(...rounds.ours.map((r) => r.peakMiB ?? 0)) || null,
      },
      {
        worker: `peer (broadcast), ${size} clients`,
        idleMiB: idle.peer,
        loadedMiB: loaded.peer,
        peakMiB: Math.max(...rounds.peer.map((r) => r.peakMiB ?? 0)) || null,
      },
    ];
    const met = ratio.median <= 1.25 && lost === 0;
    const out: ScenarioOutcome = {
      rows,
      memory,
      lost,
      targets: [
        {
          text: `${size} clients: p99 ≤ 1.25 × peer's, all delivered`,
          met,
          detail: `median p99 ratio ${ratio.median.toFixed(2)}; ${lost === 0 ? 'every client got every event once' : `${lost} frames missing or doubled`}`,
        },
      ],
      notes: [
        `${size} clients: ${rounds.ours[0]?.stats.expected ?? '?'} events per run (${NODES}-node transform chain), ${ctx.reps} runs; the peer publishes the same number of frames of the same mean size`,
      ],
    };
    if (ctx.profile === 'always' || (ctx.profile === 'auto' && !met)) {
      ctx.log(`  profiling our isolate during one more run to ${size} clients`);
      const p = await profileOurs(ctx, ours, () => oursRound(ours, groups.ours, s, wf));
      out.profiles = p.profiles.filter((x) => !x.target.startsWith('d1:'));
      out.lost += lostIn(p.result);
    }
    return out;
  } finally {
    groups.ours.close();
    groups.peer.close();
    await Promise.allSettled([ours.dispose(), peer.dispose()]);
  }
}

export const wsFanout: Scenario = {
  id: 3,
  slug: 'ws-fanout',
  title: 'WebSocket fan-out',
  peer: 'bare hibernation-API broadcast object',
  target: "p99 delivery ≤ 1.25× the peer's; all messages delivered",
  budgetMs: 180_000,
  missing: () => null,
  async run(ctx) {
    const sizes = ctx.quick ? [200, 1000] : [1000, 5000];
    const parts: ScenarioOutcome[] = [];
    for (const size of sizes) parts.push(await fanout(ctx, size));
    return {
      rows: parts.flatMap((p) => p.rows),
      targets: parts.flatMap((p) => p.targets),
      memory: parts.flatMap((p) => p.memory),
      lost: parts.reduce((n, p) => n + p.lost, 0),
      profiles: parts.flatMap((p) =>
        (p.profiles ?? []).map((x) => ({ ...x, target: `${x.target} (${p.rows[0]?.metric.replace(/^.*, /, '')})` })),
      ),
      notes: parts.flatMap((p) => p.notes),
    };
  },
};
