import { env, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { RunEngine, RunView } from '../../src/engine';
import { NodeSchema, SettingsSchema } from '../../src/engine/definition';

/*
 * Scheduling costs the same per node whatever the size of the graph (src/engine/schedule.ts).
 * Shown without timing: the engine counts the records its scheduling looks at and its passes,
 * and a graph 100 times larger must cost no more per node. The graphs go to the engine directly
 * (a run object of its own, its outward ports stubbed): definitions sent through the API stop at
 * MAX_NODES, the engine itself does not, and a 1,000-item map is within what a definition allows.
 */

/** A D1 stand-in that accepts every projection batch: these runs have no rows in D1. */
const acceptingD1 = (() => {
  const stmt: Record<string, unknown> = {};
  stmt.bind = () => stmt;
  return { prepare: () => stmt, batch: async (s: unknown[]) => s.map(() => ({ results: [], success: true, meta: {} })) };
})();

type Counters = { visits: number; passes: number };
const engineOf = (instance: unknown) => (instance as { engine: RunEngine }).engine;
let nextRunId = 700_000 + Math.floor(Math.random() * 100_000);

function objectFor(runId: number) {
  return env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`engine-scheduling:${runId}`));
}

/** The run's node records, as the engine's state holds them (a test reaches past the public API on purpose). */
const recordsOf = (engine: RunEngine) =>
  (engine as unknown as { driver: { state: { nodes(): Map<string, unknown> & { scanned?: number } } } }).driver.state.nodes();

/**
 * Counts, on the records map itself, every record any code iterates over: a pass over all nodes
 * anywhere in the engine shows up here, counted or not by the schedule's own counters.
 */
function countScans(records: Map<string, unknown> & { scanned?: number }): void {
  records.scanned = 0;
  const wrap = <T>(iterate: () => IterableIterator<T>) =>
    function* () {
      for (const x of iterate()) {
        records.scanned!++;
        yield x;
      }
    };
  const values = records.values.bind(records);
  const keys = records.keys.bind(records);
  const entries = records.entries.bind(records);
  const forEach = records.forEach.bind(records);
  Object.assign(records, {
    values: wrap(values),
    keys: wrap(keys),
    entries: wrap(entries),
    [Symbol.iterator]: wrap(entries),
    forEach: (cb: (v: unknown, k: string, m: Map<string, unknown>) => void) =>
      forEach((v, k, m) => {
        records.scanned!++;
        cb(v, k, m);
      }),
  });
}

async function start(nodes: unknown[], input: Record<string, unknown> = {}) {
  const runId = nextRunId++;
  const stub = objectFor(runId);
  await runInDurableObject(stub, async (instance) => {
    const engine = engineOf(instance);
    Object.assign(engine.ports, { d1: acceptingD1, publish: async () => {}, sendEvents: async () => {}, logLevel: 'error' });
    await engine.start({
      runId,
      workflowId: 1,
      workflowVersion: 1,
      workflowName: 'scheduling',
      ownerId: 1,
      nodes: nodes.map((n) => NodeSchema.parse(n)),
      settings: SettingsSchema.parse({ timeout_seconds: 3600 }),
      input,
      parent: null,
      depth: 0,
      budget: null,
    });
    // Before the first alarm: every pass the run makes is counted.
    countScans(recordsOf(engine));
  });
  return { stub, runId };
}

async function settled(
  stub: ReturnType<typeof objectFor>,
  until = (v: RunView) => ['succeeded', 'failed', 'cancelled'].includes(v.meta.status),
) {
  for (;;) {
    const view = await runInDurableObject(stub, (i) => engineOf(i).view());
    if (until(view)) return view;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for the run's end through its event log (reading a view would itself pass over every node). */
async function ended(stub: ReturnType<typeof objectFor>) {
  for (let after = 0; ; ) {
    const events = await runInDurableObject(stub, (i) => engineOf(i).events(after, 1000));
    const end = events.find((e) => ['run.succeeded', 'run.failed', 'run.cancelled'].includes(e.type));
    if (end) return;
    after = events.at(-1)?.seq ?? after;
    if (!events.length) await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a graph to its end; returns what scheduling looked at per record (nodes, and a map's items). */
async function cost(nodes: unknown[], records: number, input: Record<string, unknown> = {}) {
  const { stub } = await start(nodes, input);
  await ended(stub);
  const scanned = await runInDurableObject(stub, (i) => recordsOf(engineOf(i)).scanned!);
  const view = await settled(stub);
  expect(view.meta.status, view.meta.error ?? '').toBe('succeeded');
  const counters: Counters = await runInDurableObject(stub, (i) => engineOf(i).schedulingCounters());
  expect(counters.passes).toBeGreaterThan(0);
  console.log('SCAN', nodes.length, scanned, JSON.stringify(counters));
  return {
    perRecord: counters.visits / records,
    perPass: counters.visits / counters.passes,
    scannedPerNode: scanned / nodes.length,
    counters,
  };
}

const transform = (id: string, depends_on: string[]) => ({ id, type: 'transform', depends_on, source: id, operations: [{ op: 'trim' }] });
const chain = (n: number) => Array.from({ length: n }, (_, i) => transform(`n${i}`, i ? [`n${i - 1}`] : []));
const fanOut = (n: number) => [
  transform('root', []),
  ...Array.from({ length: n - 2 }, (_, i) => transform(`leaf${i}`, ['root'])),
  transform('sink', ['root']),
];
const mapOf = () => [
  {
    id: 'each',
    type: 'map',
    items: '{{input.list}}',
    max_items: 1000,
    concurrency: 4,
    node: { type: 'transform', source: '{{item}}', operations: [{ op: 'trim' }] },
  },
];
const list = (n: number) => ({ list: Array.from({ length: n }, (_, i) => ` item ${i} `) });

/** The cost per record of a 1,000-record run stays within that of a 10-record one (plus slack for its fixed costs). */
type Cost = { perRecord: number; perPass: number; scannedPerNode: number };
function expectFlat(small: Cost, large: Cost) {
  // Whole passes over the node records happen a bounded number of times per run (its few status
  // changes reach D1 with its totals), never once per step: per node they stay below a constant.
  expect(large.scannedPerNode).toBeLessThanOrEqual(10);
  expect(small.scannedPerNode).toBeLessThanOrEqual(10);
  expect(large.perRecord).toBeLessThanOrEqual(small.perRecord * 1.5);
  // A pass looks at a bounded number of records whatever the graph's size.
  expect(large.perPass).toBeLessThanOrEqual(small.perPass * 2 + 5);
  expect(large.perRecord).toBeLessThan(20);
}

describe('engine scheduling costs the same per node at any size', () => {
  it('a linear chain of 10 and of 1,000 nodes', { timeout: 120_000 }, async () => {
    const small = await cost(chain(10), 10);
    const large = await cost(chain(1000), 1000);
    expectFlat(small, large);
  });

  it('a fan-out of 10 and of 1,000 nodes', { timeout: 120_000 }, async () => {
    const small = await cost(fanOut(10), 10);
    const large = await cost(fanOut(1000), 1000);
    expectFlat(small, large);
  });

  it('a map of 10 and of 1,000 items', { timeout: 120_000 }, async () => {
    const small = await cost(mapOf(), 11, list(10));
    const large = await cost(mapOf(), 1001, list(1000));
    expectFlat(small, large);
  });

  it('an evicted run rebuilds its indexes from storage and goes on where it stopped', { timeout: 120_000 }, async () => {
    // 300 nodes done, one waiting for an event, 300 after it: the new incarnation only knows the stored records.
    const nodes = [
      ...chain(300),
      { id: 'gate', type: 'wait_for_event', depends_on: ['n299'], event: 'go', timeout_seconds: 3600 },
      ...Array.from({ length: 300 }, (_, i) => transform(`m${i}`, [i ? `m${i - 1}` : 'gate'])),
    ];
    const { stub, runId } = await start(nodes);
    await settled(stub, (v) => v.meta.status === 'waiting');
    await runInDurableObject(stub, (_i, state) => {
      try {
        state.abort('test: simulated eviction');
      } catch {
        // abort() throws inside the object by design
      }
    }).catch(() => undefined);
    const fresh = objectFor(runId);
    await runInDurableObject(fresh, async (instance) => {
      const engine = engineOf(instance);
      Object.assign(engine.ports, { d1: acceptingD1, publish: async () => {}, sendEvents: async () => {}, logLevel: 'error' });
      expect(await engine.signal({ type: 'event', name: 'go', payload: { ok: true }, actor: null })).toEqual({ ok: true });
    });
    await runDurableObjectAlarm(fresh);
    const view = await settled(fresh);
    expect(view.meta.status).toBe('succeeded');
    expect(view.nodes.every((n) => n.status === 'succeeded')).toBe(true);
    // Each node ran once: the 300 finished before the eviction were not run again.
    expect(view.nodes.every((n) => n.attempts === 1)).toBe(true);
    const counters: Counters = await runInDurableObject(fresh, (i) => engineOf(i).schedulingCounters());
    expect(counters.visits / 601).toBeLessThan(20);
  });
});
