import { createWorkflow, liftUserRateLimits, newSession, startRun, transformChain, type NodeDef, type Session } from '../lib/api';
import { request, retrying } from '../lib/http';
import { startOurs } from '../lib/ours';
import { rssMiB } from '../lib/procs';
import {
  COMMON_WORD,
  countRows,
  queryPlan,
  RARE_COUNT,
  RARE_WORD,
  DOCS_PER_RUN,
  runOf,
  seedAudit,
  seedDocuments,
  workflowOf,
  type SeedOwner,
} from '../lib/seed-d1';
import { figure, median } from '../lib/stats';
import { ScenarioError, type Ctx, type Memory, type Row, type Scenario, type Target } from '../lib/types';
import type { Running } from '../lib/workers';

/**
 * Scenario 8 — scaling with data (issue 27). A first page, a filtered page, a search page or one
 * document should cost the same whatever the database holds, so each series is measured at
 * growing sizes and reported with its log-log slope between the smallest and largest size
 * (slope = Δlog(time) ÷ Δlog(size): 0 is flat, 1 is linear; the target is ≤ 0.1).
 *
 * Data: one fresh worker per size, all running at once. On each, three users: `own` and `other`
 * get SIZE documents each, interleaved row by row and seeded straight into D1
 * (bench/lib/seed-d1.ts; through the API 100k documents would take hours); every document of
 * every owner contains the common word, five old ones the rare word. `fixed` has FIXED_DOCS
 * documents on every worker while the others' grow ×10 from one worker to the next: the series
 * where only other owners' data grows. The audit log gets SIZE entries in all (one in 10 a
 * failure), seeded the same way with hash NULL as src/lib/audit.ts inserts them, then sealed
 * through the API (the listing seals up to 5,000 per call) before anything is measured, so no
 * measured request pays for sealing.
 *
 * Measurement: through each worker's HTTP API on its own workerd socket, one request at a time;
 * every measured page is first checked to hold what it should (an empty search is not a fast
 * one). After an uncounted warm-up, each repetition sends, for every query in turn, PER_REP
 * requests to each size, the sizes taking turns request by request, and keeps each size's median.
 * A figure is the median over repetitions; a slope is computed per repetition, then its median.
 *
 * Chains: a fresh worker; per-node overhead = (makespan(n) − makespan(1)) ÷ (n − 1), the makespan
 * ending at the run's own `finished_at`, for linear chains up to the API's node cap and for one
 * map node of n items at every size (see measureChains).
 */
const DEFAULT_SIZES = [1_000, 10_000, 100_000];
const QUICK_SIZES = [1_000, 10_000];
const DEFAULT_NODES = [10, 100, 1_000];
const FIXED_DOCS = 1_000;
const PER_REP = 25;
const WARMUP = 5;
const AUDIT_FAILURE_EVERY = 10;
const SLOPE_TARGET = 0.1;

/** `DWC_BENCH_SCALING_SIZES=1000,10000` (or `--quick`) for a short check; likewise `…_NODES`. */
function sizesFrom(env: string | undefined, fallback: number[]): number[] {
  const parsed = (env ?? '')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return parsed.length >= 2 ? [...new Set(parsed)].sort((a, b) => a - b) : fallback;
}

const slope = (x0: number, y0: number, x1: number, y1: number) => Math.log(y1 / y0) / Math.log(x1 / x0);

type Query = {
  key: string;
  label: string;
  path: (w: World) => string;
  session: (w: World) => Session;
  /** Items the page must hold (null: a single document), checked on the warm-up requests. */
  expect: number | null;
  plan?: (w: World) => { sql: string; params: unknown[] };
};

async function get(s: Session, path: string): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  const res = await request(s.base + path, { headers: { authorization: `Bearer ${s.token}` }, retry: true });
  const body = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${body.slice(0, 300)}`);
  return { ms, body };
}

/** A measured answer must be the page it claims to be: an empty search is not a fast search. */
function check(q: Query, body: string): void {
  const parsed = JSON.parse(body) as { items?: unknown[]; id?: number };
  const got = q.expect === null ? (typeof parsed.id === 'number' ? null : 'no document') : (parsed.items?.length ?? -1);
  if (got !== q.expect) throw new ScenarioError(`${q.label}: expected ${q.expect ?? 'a document'}, got ${String(got)} items`);
}

/**
 * The list statements as src/documents/queries.ts and src/audit/queries.ts build them (drizzle's
 * SQL with its column list written as `*`: the plan is the same, and not a covering-index one).
 */
const DOCS_LIST = (filter: string) =>
  `select * from "documents" where ("documents"."owner_id" = ? and "documents"."${filter}" = ?) order by "documents"."id" desc limit ?`;
const DOCS_FIRST_PAGE = `select * from "documents" where "documents"."owner_id" = ? order by "documents"."id" desc limit ?`;
const DOCS_SEARCH = `select "documents".* from "documents_fts" cross join "documents" where ("documents_fts" MATCH ? and "documents"."id" = "documents_fts"."rowid" and "documents"."owner_id" = ?) order by "documents_fts"."rowid" desc limit ?`;
const DOCS_GET = `select * from "documents" where ("documents"."id" = ? and "documents"."owner_id" = ?)`;
const AUDIT_LIST = `select * from "audit_log" where "audit_log"."outcome" = ? order by "audit_log"."id" desc limit ?`;
const ownerMatch = (owner: number, word: string) => `{owner_id} : "${owner}" AND {title content} : ("${word}"*)`;

/** Seals every pending audit entry through the API (GET /logs seals up to 5,000 per call). */
async function sealAll(running: Running, admin: Session): Promise<number> {
  let calls = 0;
  while ((await countRows(running, 'SELECT count(*) AS n FROM audit_log WHERE hash IS NULL')) > 0) {
    if (++calls > 200) throw new Error('the audit chain did not seal the seeded entries after 200 listings');
    await get(admin, '/api/v3/security/audit/logs?limit=1');
  }
  return calls;
}

type Shape = {
  key: 'chain' | 'map';
  label: string;
  sizes: number[];
  workflows: Map<number, number>;
  input: (n: number) => Record<string, unknown>;
};
type ChainSeries = { label: string; sizes: number[]; perNode: Map<number, number[]>; makespan: Map<number, number[]> };

const mapOf = (n: number): NodeDef[] => [
  {
    id: 'each',
    type: 'map',
    items: '{{input.items}}',
    max_items: n,
    concurrency: 1,
    node: { type: 'transform', source: '{{item}}', operations: [{ op: 'trim' }] },
  },
];

/**
 * Two series on a fresh worker: linear chains of `transform` nodes up to the API's node cap (a
 * longer chain is refused with a 4xx, and that size is left out of this series), and one map node
 * of n transform items at every size. The map runs its items one at a time (concurrency 1), as a
 * chain runs its nodes: with 16 at a time, 10 items cost about what 1 does and the per-item
 * overhead at the small end would be lost in the noise. Each point is the median of several runs,
 * one at a time (runsPerPoint: 15 up to 10 nodes, where a run is short and noisy; 5 above); every
 * repetition runs each size after a 1-node run of the same shape.
 */
const runsPerPoint = (n: number) => (n <= 10 ? 15 : 5);
async function measureChains(ctx: Ctx, nodeSizes: number[]): Promise<{ series: ChainSeries[]; notes: string[] }> {
  const ours = await startOurs(ctx);
  try {
    const s = await newSession(ours.url, 'scaling-chain');
    await liftUserRateLimits(s);
    const db = await ours.mf.getD1Database('DB');
    const notes: string[] = [];
    const text = { text: '  Solar power for small farms.  ' };
    const chain: Shape = { key: 'chain', label: 'linear chain of transform nodes', sizes: [], workflows: new Map(), input: () => text };
    const map: Shape = {
      key: 'map',
      label: 'one map node of n transform items, one at a time',
      sizes: [],
      workflows: new Map(),
      input: (n) => ({ items: Array.from({ length: n }, (_, i) => `  section ${i}  `) }),
    };
    for (const n of [1, ...nodeSizes]) {
      try {
        chain.workflows.set(n, await createWorkflow(s, `chain of ${n}`, transformChain(n)));
        if (n > 1) chain.sizes.push(n);
      } catch (err) {
        if (!/answered 4\d\d/.test(String(err))) throw err;
        notes.push(
          `a chain of ${n} nodes is refused by the API (its node cap): the chain series stops below it, the map series covers ${n}`,
        );
      }
      map.workflows.set(n, await createWorkflow(s, `map of ${n}`, mapOf(n)));
      if (n > 1) map.sizes.push(n);
    }
    const runOnce = async (shape: Shape, n: number) => {
      const t0 = Date.now();
      const id = await startRun(s, shape.workflows.get(n)!, shape.input(n));
      const until = Date.now() + 120_000;
      for (;;) {
        const r = await retrying(() =>
          db.prepare('SELECT status, finished_at FROM runs WHERE id = ?').bind(id).first<{ status: string; finished_at: number | null }>(),
        );
        if (r && r.finished_at !== null && ['succeeded', 'failed', 'cancelled'].includes(r.status)) {
          if (r.status !== 'succeeded') throw new ScenarioError(`run ${id} (${shape.key} of ${n}) ended ${r.status}`);
          return r.finished_at - t0;
        }
        if (Date.now() > until) throw new ScenarioError(`run ${id} (${shape.key} of ${n}) not finished after 120 s`);
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    const point = async (shape: Shape, n: number) => {
      const m: number[] = [];
      for (let r = 0; r < runsPerPoint(n); r++) m.push(await runOnce(shape, n));
      return median(m);
    };
    const shapes = [chain, map].filter((x) => x.sizes.length >= 2);
    ctx.log('  chains: warming up (one run of each shape and size, not counted)');
    for (const shape of shapes) for (const n of [1, ...shape.sizes]) await runOnce(shape, n);
    const series = shapes.map((shape) => ({
      shape,
      perNode: new Map<number, number[]>(shape.sizes.map((n) => [n, []])),
      makespan: new Map<number, number[]>([1, ...shape.sizes].map((n) => [n, []])),
    }));
    for (let rep = 0; rep < ctx.reps; rep++) {
      for (const x of series) {
        const one = await point(x.shape, 1);
        x.makespan.get(1)!.push(one);
        for (const n of x.shape.sizes) {
          const m = await point(x.shape, n);
          x.makespan.get(n)!.push(m);
          x.perNode.get(n)!.push((m - one) / (n - 1));
        }
        ctx.log(`  ${x.shape.key} rep ${rep + 1}: ${[1, ...x.shape.sizes].map((n) => `${n}: ${x.makespan.get(n)!.at(-1)} ms`).join(', ')}`);
      }
    }
    return {
      series: series.map((x) => ({ label: x.shape.label, sizes: x.shape.sizes, perNode: x.perNode, makespan: x.makespan })),
      notes,
    };
  } finally {
    await ours.dispose();
  }
}

/** One worker seeded to one size: its users, their seeded ids, and what seeding took. */
type World = {
  size: number;
  running: Running;
  own: Session;
  other: Session;
  fixed: Session;
  owners: Record<'own' | 'other' | 'fixed', SeedOwner>;
  ownDoc: number;
  fixedDoc: number;
  idleMiB: number | null;
  note: string;
};

async function seedWorld(ctx: Ctx, size: number): Promise<World> {
  const running = await startOurs(ctx);
  try {
    // The first user is the administrator (the audit listing needs one).
    const own = await newSession(running.url, 'scaling-own');
    await liftUserRateLimits(own);
    const other = await newSession(running.url, 'scaling-other');
    const fixed = await newSession(running.url, 'scaling-fixed');
    const owners: World['owners'] = {
      own: { ownerId: own.userId, idBase: 10_000_000 },
      other: { ownerId: other.userId, idBase: 20_000_000 },
      fixed: { ownerId: fixed.userId, idBase: 30_000_000 },
    };
    const t0 = Date.now();
    await seedDocuments(running, [owners.fixed], 0, FIXED_DOCS);
    await seedDocuments(running, [owners.own, owners.other], 0, size);
    const auditNow = await countRows(running, 'SELECT count(*) AS n FROM audit_log');
    if (size > auditNow) await seedAudit(running, own.userId, size - auditNow, AUDIT_FAILURE_EVERY);
    const seedMs = Date.now() - t0;
    const t1 = Date.now();
    const sealCalls = await sealAll(running, own);
    const sealMs = Date.now() - t1;
    const docs = await countRows(running, 'SELECT count(*) AS n FROM documents');
    const audit = await countRows(running, 'SELECT count(*) AS n FROM audit_log');
    const first = (o: SeedOwner) => countRows(running, `SELECT min(id) AS n FROM documents WHERE owner_id = ${o.ownerId}`);
    const seeded = `seeded in ${(seedMs / 1000).toFixed(1)} s, the audit entries sealed in ${(sealMs / 1000).toFixed(1)} s (${sealCalls} listings)`;
    ctx.log(`  ${size} documents per owner (${docs} in all, audit ${audit}): ${seeded}`);
    return {
      size,
      running,
      own,
      other,
      fixed,
      owners,
      ownDoc: await first(owners.own),
      fixedDoc: await first(owners.fixed),
      idleMiB: rssMiB(running.pid),
      note: `size ${size}: ${docs} documents (${size} of the measured user, ${size} of a second user, ${FIXED_DOCS} of the fixed user), ${audit} audit entries; ${seeded}`,
    };
  } catch (err) {
    await running.dispose();
    throw err;
  }
}

const QUERIES: Query[] = [
  {
    key: 'own-first',
    label: 'documents, first page (no filter)',
    session: (w) => w.own,
    path: () => '/api/v3/documents',
    expect: 20,
    plan: (w) => ({ sql: DOCS_FIRST_PAGE, params: [w.own.userId, 21] }),
  },
  {
    key: 'own-run',
    label: "documents ?run_id= (the user's oldest run)",
    session: (w) => w.own,
    path: (w) => `/api/v3/documents?run_id=${runOf(w.owners.own, 0)}`,
    expect: DOCS_PER_RUN,
    plan: (w) => ({ sql: DOCS_LIST('run_id'), params: [w.own.userId, runOf(w.owners.own, 0), 21] }),
  },
  {
    key: 'own-workflow',
    label: "documents ?workflow_id= (the user's first workflow)",
    session: (w) => w.own,
    path: (w) => `/api/v3/documents?workflow_id=${workflowOf(w.owners.own, 0)}`,
    expect: 20,
    plan: (w) => ({ sql: DOCS_LIST('workflow_id'), params: [w.own.userId, workflowOf(w.owners.own, 0), 21] }),
  },
  {
    key: 'own-common',
    label: `search, common word ("${COMMON_WORD}", in every document), first page`,
    session: (w) => w.own,
    path: () => `/api/v3/documents?q=${COMMON_WORD}`,
    expect: 20,
    plan: (w) => ({ sql: DOCS_SEARCH, params: [ownerMatch(w.own.userId, COMMON_WORD), w.own.userId, 21] }),
  },
  {
    key: 'own-rare',
    label: `search, rare word ("${RARE_WORD}", in ${RARE_COUNT} old documents), first page`,
    session: (w) => w.own,
    path: () => `/api/v3/documents?q=${RARE_WORD}`,
    expect: RARE_COUNT,
    plan: (w) => ({ sql: DOCS_SEARCH, params: [ownerMatch(w.own.userId, RARE_WORD), w.own.userId, 21] }),
  },
  {
    key: 'own-get',
    label: "one document by id (the user's oldest)",
    session: (w) => w.own,
    path: (w) => `/api/v3/documents/${w.ownDoc}`,
    expect: null,
    plan: (w) => ({ sql: DOCS_GET, params: [w.ownDoc, w.own.userId] }),
  },
  {
    key: 'audit-failure',
    label: 'audit ?outcome=failure, first page',
    session: (w) => w.own,
    path: () => '/api/v3/security/audit/logs?outcome=failure',
    expect: 20,
    plan: () => ({ sql: AUDIT_LIST, params: ['failure', 21] }),
  },
  {
    key: 'fixed-common',
    label: `fixed ${FIXED_DOCS}-document user: search "${COMMON_WORD}"`,
    session: (w) => w.fixed,
    path: () => `/api/v3/documents?q=${COMMON_WORD}`,
    expect: 20,
  },
  {
    key: 'fixed-rare',
    label: `fixed ${FIXED_DOCS}-document user: search "${RARE_WORD}"`,
    session: (w) => w.fixed,
    path: () => `/api/v3/documents?q=${RARE_WORD}`,
    expect: RARE_COUNT,
  },
  {
    key: 'fixed-run',
    label: `fixed ${FIXED_DOCS}-document user: documents ?run_id= (oldest run)`,
    session: (w) => w.fixed,
    path: (w) => `/api/v3/documents?run_id=${runOf(w.owners.fixed, 0)}`,
    expect: DOCS_PER_RUN,
  },
  {
    key: 'fixed-get',
    label: `fixed ${FIXED_DOCS}-document user: one document by id`,
    session: (w) => w.fixed,
    path: (w) => `/api/v3/documents/${w.fixedDoc}`,
    expect: null,
  },
];

export const scaling: Scenario = {
  id: 8,
  slug: 'scaling',
  title: 'scaling with data',
  peer: '— (our own figures at growing sizes)',
  target: 'log-log slope ≤ 0.1 from the smallest to the largest size, for every page, search and single item',
  budgetMs: 900_000,
  missing: (ctx) => (ctx.paths && !ctx.paths.has('/api/v3/documents') ? 'GET /api/v3/documents is not in the OpenAPI document' : null),
  async run(ctx) {
    const sizes = ctx.quick ? QUICK_SIZES : sizesFrom(process.env.DWC_BENCH_SCALING_SIZES, DEFAULT_SIZES);
    const nodeSizes = sizesFrom(process.env.DWC_BENCH_SCALING_NODES, ctx.quick ? [10, 100] : DEFAULT_NODES);
    const rows: Row[] = [];
    const targets: Target[] = [];
    const notes: string[] = [];
    const plans: string[] = [];
    const memory: Memory[] = [];
    const worlds: World[] = [];
    const diagnostics: Row[] = [];
    try {
      for (const size of sizes) {
        const w = await seedWorld(ctx, size);
        worlds.push(w);
        notes.push(w.note);
      }
      const queries = QUERIES;
      for (const w of worlds) for (const q of queries) for (let i = 0; i < WARMUP; i++) check(q, (await get(q.session(w), q.path(w))).body);
      /** samples[key][sizeIndex] = one median per repetition. */
      const samples = new Map<string, number[][]>(queries.map((q) => [q.key, worlds.map(() => [])]));
      for (let rep = 0; rep < ctx.reps; rep++) {
        // Sizes take turns request by request, so drift of the shared machine hits every size alike.
        for (const q of queries) {
          const times: number[][] = worlds.map(() => []);
          for (let r = 0; r < PER_REP; r++) for (const [k, w] of worlds.entries()) times[k]!.push((await get(q.session(w), q.path(w))).ms);
          for (const [k, t] of times.entries()) samples.get(q.key)![k]!.push(median(t));
        }
        ctx.log(
          `  rep ${rep + 1}: ${queries
            .map(
              (q) =>
                `${q.key} ${samples
                  .get(q.key)!
                  .map((x) => x[rep]!.toFixed(1))
                  .join('/')}`,
            )
            .join(', ')} ms`,
        );
      }
      // Below the API: the search statement alone, through the D1 binding, with the common word as
      // the route sends it (an exact term, `"w"`) and as the prefix a user asks for with `w*`, to
      // tell FTS5's prefix merge (every owner's postings of every term with that prefix) from the
      // owner-scoped walk.
      const direct = { prefix: worlds.map(() => [] as number[]), exact: worlds.map(() => [] as number[]) };
      for (let r = 0; r < PER_REP; r++) {
        for (const [k, w] of worlds.entries()) {
          const d1 = await w.running.mf.getD1Database('DB');
          for (const kind of ['prefix', 'exact'] as const) {
            const match = `{owner_id} : "${w.own.userId}" AND {title content} : (${kind === 'prefix' ? `"${COMMON_WORD}"*` : `"${COMMON_WORD}"`})`;
            const t0 = performance.now();
            const res = await retrying(() => d1.prepare(DOCS_SEARCH).bind(match, w.own.userId, 21).all());
            direct[kind][k]!.push(performance.now() - t0);
            if (res.results.length !== 21) throw new ScenarioError(`direct ${kind} search returned ${res.results.length} rows, not 21`);
          }
        }
      }
      for (const kind of ['prefix', 'exact'] as const) {
        const med = direct[kind].map((t) => median(t));
        diagnostics.push({
          metric: `diagnostic, D1 binding directly: the search statement, common word as ${kind === 'prefix' ? 'a prefix ("harvest"*, as the route sends harvest*)' : 'an exact term ("harvest", as the route sends harvest)'}, slope ${sizes[0]} → ${sizes[sizes.length - 1]}`,
          ours: figure([slope(sizes[0]!, med[0]!, sizes[sizes.length - 1]!, med[med.length - 1]!)], ''),
          peer: null,
          ratio: null,
          note: sizes.map((sz, k) => `${sz}: ${med[k]!.toFixed(2)} ms`).join(', '),
        });
      }
      for (const w of worlds)
        memory.push({ worker: `ours, ${w.size} documents per owner`, idleMiB: w.idleMiB, loadedMiB: rssMiB(w.running.pid), peakMiB: null });
      const last = sizes.length - 1;
      const xOf = (q: Query) => (q.key.startsWith('fixed-') ? sizes.map((s) => 2 * s) : sizes);
      for (const q of queries) {
        const per = samples.get(q.key)!;
        const x = xOf(q);
        const sl = figure(
          per[0]!.map((y0, rep) => slope(x[0]!, y0, x[last]!, per[last]![rep]!)),
          '',
        );
        const axis = q.key.startsWith('fixed-') ? 'other owners’ documents' : 'documents per owner';
        rows.push({
          metric: `slope: ${q.label} (${axis} ${x[0]} → ${x[last]})`,
          ours: sl,
          peer: null,
          ratio: null,
          note: sizes.map((_, k) => `${x[k]}: ${median(per[k]!).toFixed(1)} ms`).join(', '),
        });
        targets.push({
          text: `${q.label}: slope ≤ ${SLOPE_TARGET}`,
          met: sl.median <= SLOPE_TARGET,
          detail: `median slope ${sl.median.toFixed(2)}`,
        });
      }
      rows.push(...diagnostics);
      for (const q of queries) {
        const x = xOf(q);
        for (const [k, reps] of samples.get(q.key)!.entries())
          rows.push({ metric: `${q.label} @ ${x[k]}`, ours: figure(reps, 'ms'), peer: null, ratio: null });
      }
      for (const q of queries) {
        if (!q.plan) continue;
        const p: string[] = [];
        for (const w of worlds) {
          const st = q.plan(w);
          p.push(await queryPlan(w.running, st.sql, st.params));
        }
        plans.push(`query plan, ${q.label}: ${p.every((x) => x === p[0]) ? p[0] : p.map((x, k) => `at ${sizes[k]}: ${x}`).join(' | ')}`);
      }
      notes.push(
        `${PER_REP} requests per query and size per repetition (their median), ${ctx.reps} repetitions; one worker per size, all running, the sizes taking turns request by request; ${WARMUP} uncounted requests of each query first; one request at a time, pages of 20`,
        `"fixed" series: a user with ${FIXED_DOCS} documents (the same words) while the other two users' documents grow; its x axis is the other owners' documents`,
        'run and workflow ids of the seeded documents are synthetic (documents.run_id and workflow_id have no foreign key, and the list reads only documents); query plans are of the statements as src/documents/queries.ts and src/audit/queries.ts build them (columns written as *), on each seeded database',
      );
    } finally {
      await Promise.allSettled(worlds.map((w) => w.running.dispose()));
    }

    const chains = await measureChains(ctx, nodeSizes);
    const chainRows: Row[] = [];
    for (const x of chains.series) {
      const first = x.sizes[0]!;
      const lastN = x.sizes[x.sizes.length - 1]!;
      const unitName = x.label.startsWith('one map') ? 'item' : 'node';
      // From the medians over repetitions, not per repetition: at the smallest size the difference
      // makespan(n) − makespan(1) is a few milliseconds, and one repetition's can be ≤ 0.
      const m = (n: number) => median(x.perNode.get(n)!);
      const perSlope = m(first) > 0 && m(lastN) > 0 ? slope(first, m(first), lastN, m(lastN)) : Number.NaN;
      const spanSlope = slope(first, median(x.makespan.get(first)!), lastN, median(x.makespan.get(lastN)!));
      rows.splice(
        chainRows.length,
        0,
        {
          metric: `slope: per-${unitName} overhead, ${x.label} (${first} → ${lastN})`,
          ours: figure([perSlope], ''),
          peer: null,
          ratio: null,
          note: x.sizes.map((n) => `${n}: ${m(n).toFixed(2)} ms/${unitName}`).join(', '),
        },
        {
          metric: `slope: run makespan, ${x.label} (${first} → ${lastN}; 1 is linear)`,
          ours: figure([spanSlope], ''),
          peer: null,
          ratio: null,
          note: x.sizes.map((n) => `${n}: ${median(x.makespan.get(n)!).toFixed(0)} ms`).join(', '),
        },
      );
      chainRows.push(rows[chainRows.length]!, rows[chainRows.length + 1]!);
      targets.splice(chainRows.length / 2 - 1, 0, {
        text: `per-${unitName} overhead, ${x.label}: slope ≤ ${SLOPE_TARGET}`,
        met: Number.isNaN(perSlope) ? null : perSlope <= SLOPE_TARGET,
        detail: Number.isNaN(perSlope)
          ? `not judged: the overhead at ${first} was not above zero (${m(first).toFixed(2)} ms)`
          : `slope of the medians ${perSlope.toFixed(2)}; makespan slope ${spanSlope.toFixed(2)}`,
      });
      for (const n of x.sizes) {
        rows.push({
          metric: `per-${unitName} overhead @ ${n}, ${x.label}`,
          ours: figure(x.perNode.get(n)!, 'ms'),
          peer: null,
          ratio: null,
        });
        rows.push({ metric: `run makespan @ ${n}, ${x.label}`, ours: figure(x.makespan.get(n)!, 'ms'), peer: null, ratio: null });
      }
      rows.push({ metric: `run makespan @ 1, ${x.label}`, ours: figure(x.makespan.get(1)!, 'ms'), peer: null, ratio: null });
    }
    notes.push(
      `per-node (per-item) overhead = (makespan(n) − makespan(1)) ÷ (n − 1), each makespan the median of 15 runs (up to 10 nodes; 5 above) one at a time, from just before the launch request to the run’s own finished_at`,
      ...chains.notes,
      ...plans,
    );
    return {
      rows,
      targets,
      memory,
      lost: 0,
      notes,
    };
  },
};
