import { env, runInDurableObject } from 'cloudflare:test';
// @ts-expect-error: the parser ships no type declarations; what it returns is checked below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import type { MetricsShard } from '../../durable-objects/metrics-shard';
import { bucketIndex, bucketQuantile, emptyCounts } from '../../src/metrics/buckets';
import { HOUR_MS, HOUR_RETENTION_MS, MINUTE_MS, type Delta, type Family } from '../../src/metrics/model';
import { exposedName, checkLabels } from '../../src/metrics/names';
import { renderPrometheus } from '../../src/metrics/prometheus';
import { addToSketch, emptySketch, mergeSketch, sketchQuantile } from '../../src/metrics/sketch';
import { percentiles } from '../../src/metrics/views';

const ONE_TO_100 = Array.from({ length: 100 }, (_, i) => i + 1);
const TENS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

describe('histogram percentiles', () => {
  it('interpolates inside buckets: 1..100 in buckets of 10 gives p50 = 50, p95 = 95, p99 = 99', () => {
    const counts = emptyCounts(TENS);
    for (const v of ONE_TO_100) counts[bucketIndex(TENS, v)]! += 1;
    expect(counts).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0]);
    expect(bucketQuantile(TENS, counts, 0.5, 1, 100)).toBe(50);
    expect(bucketQuantile(TENS, counts, 0.95, 1, 100)).toBe(95);
    expect(bucketQuantile(TENS, counts, 0.99, 1, 100)).toBe(99);
  });

  it("puts a value equal to a bound in that bound's bucket (le is inclusive), and uses the max for +Inf", () => {
    expect(bucketIndex([1, 2], 1)).toBe(0);
    expect(bucketIndex([1, 2], 1.5)).toBe(1);
    expect(bucketIndex([1, 2], 3)).toBe(2);
    expect(bucketQuantile([1, 2], [0, 0, 4], 0.5, 10, 30)).toBe(20);
    expect(bucketQuantile([1], [0, 0], 0.5, 0, 0)).toBeNull();
  });
});

describe('summary sketch', () => {
  it('answers 1..100 within 1 % (p50 ≈ 50, p95 ≈ 95, p99 ≈ 99), also when built from merged halves', () => {
    const whole = emptySketch();
    const a = emptySketch();
    const b = emptySketch();
    for (const v of ONE_TO_100) {
      addToSketch(whole, v);
      addToSketch(v <= 50 ? a : b, v);
    }
    const merged = mergeSketch(a, b);
    for (const [q, exact] of [
      [0.5, 50],
      [0.95, 95],
      [0.99, 99],
    ] as const) {
      for (const s of [whole, merged]) expect(Math.abs(sketchQuantile(s, q)! - exact) / exact).toBeLessThanOrEqual(0.01);
    }
    expect(merged).toEqual(whole);
  });

  it('orders negative values, zeros and positives', () => {
    const s = emptySketch();
    for (const v of [-100, -1, 0, 0, 5]) addToSketch(s, v);
    expect(sketchQuantile(s, 0)!).toBeCloseTo(-100, -1);
    expect(sketchQuantile(s, 0.5)).toBe(0);
    expect(sketchQuantile(s, 1)!).toBeCloseTo(5, 0);
    expect(sketchQuantile(emptySketch(), 0.5)).toBeNull();
  });
});

describe('names and labels', () => {
  it('maps dots to underscores and adds the suffixes Prometheus naming asks for', () => {
    expect(exposedName('custom.metric', 'counter')).toEqual({ ok: true, name: 'custom_metric_total' });
    expect(exposedName('jobs_total', 'counter')).toEqual({ ok: true, name: 'jobs_total' });
    expect(exposedName('job.duration', 'timer')).toEqual({ ok: true, name: 'job_duration_seconds' });
    expect(exposedName('queue.depth', 'gauge')).toEqual({ ok: true, name: 'queue_depth' });
  });

  it('refuses invalid and reserved names and labels', () => {
    for (const bad of ['9lives', 'a-b', 'dwc_http', '__x', 'x_bucket', 'x_sum', 'x_count', 'a'.repeat(101)])
      expect(exposedName(bad, 'gauge').ok, bad).toBe(false);
    expect(checkLabels({ le: '1' })).toMatch(/reserved/);
    expect(checkLabels({ __name__: 'x' })).toMatch(/reserved/);
    expect(checkLabels({ 'bad-name': 'x' })).toMatch(/valid/);
    expect(checkLabels(Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'v'])))).toMatch(/At most 8/);
    expect(checkLabels({ region: 'eu' })).toBeNull();
  });
});

describe('Prometheus exposition', () => {
  const fam = (name: string, type: Family['type'], buckets: number[] | null = null): Family => ({
    name,
    given: name,
    type,
    help: `help of ${name}\nsecond line \\ end`,
    unit: null,
    category: 'test',
    buckets,
  });

  it('escapes label values and help, and parses with a Prometheus text-format parser', () => {
    const text = renderPrometheus(
      [fam('a_total', 'counter'), fam('h', 'histogram', [1, 2]), fam('s', 'summary'), fam('g', 'gauge')],
      [
        { family: 'a_total', labels: { path: 'C:\\dir "quoted"\nnext' }, count: 3, sum: 3, value: 0, counts: null, updatedAt: 0 },
        { family: 'h', labels: {}, count: 3, sum: 4.5, value: 0, counts: [1, 1, 1], updatedAt: 0 },
        { family: 's', labels: { k: 'v' }, count: 1, sum: 2, value: 0, counts: null, updatedAt: 0 },
        { family: 'g', labels: {}, count: 1, sum: -1.5, value: -1.5, counts: null, updatedAt: 0 },
      ],
      new Map([['s\n{"k":"v"}', addToSketch(emptySketch(), 2)]]),
    );
    expect(text).toContain('a_total{path="C:\\\\dir \\"quoted\\"\\nnext"} 3');
    expect(text).toContain('# HELP a_total help of a_total\\nsecond line \\\\ end');
    expect(text).toContain('h_bucket{le="1"} 1\nh_bucket{le="2"} 2\nh_bucket{le="+Inf"} 3\nh_sum 4.5\nh_count 3');
    const parsed = parsePrometheusTextFormat(text) as { name: string; type: string; metrics: any[] }[];
    const byName: Record<string, { type: string; metrics: any[] }> = Object.fromEntries(parsed.map((f) => [f.name, f]));
    expect(byName.a_total).toMatchObject({ type: 'COUNTER', metrics: [{ value: '3', labels: { path: 'C:\\dir "quoted"\nnext' } }] });
    expect(byName.h).toMatchObject({
      type: 'HISTOGRAM',
      metrics: [{ buckets: { '1': '1', '2': '2', '+Inf': '3' }, count: '3', sum: '4.5' }],
    });
    expect(byName.s!.type).toBe('SUMMARY');
    expect(Number(byName.s!.metrics[0].quantiles['0.5'])).toBeCloseTo(2, 1);
    expect(byName.g!.metrics[0].value).toBe('-1.5');
  });
});

describe('MetricsShard', () => {
  const counter: Family = {
    name: 'unit_jobs_total',
    given: 'unit.jobs',
    type: 'counter',
    help: '',
    unit: null,
    category: 'test',
    buckets: null,
  };
  const hist: Family = { name: 'unit_size', given: 'unit.size', type: 'histogram', help: '', unit: null, category: 'test', buckets: TENS };
  const one = (family: Family, value: number, labels = {}): Delta => ({
    family,
    labels,
    count: 1,
    sum: value,
    min: value,
    max: value,
    last: value,
  });

  it('downsamples minute points older than a day into hourly points, keeping totals and percentiles, idempotently', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('unit-downsample'));
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
    // 100 observations spread over the ten-o'clock hour (one per 36 s), and one the next day.
    for (const [i, v] of ONE_TO_100.entries())
      expect(await stub.record([one(hist, v), one(counter, 1)], t0 + i * 36_000)).toEqual({ ok: true });
    await stub.record([one(counter, 5)], t0 + 26 * HOUR_MS);
    const before = await stub.window(t0, t0 + HOUR_MS);
    const stats0 = await stub.stats();
    expect(stats0.minutePoints).toBeGreaterThan(100);

    const r = await stub.compact(t0 + 26 * HOUR_MS);
    expect(r.minutePointsMerged).toBe(stats0.minutePoints - 1);
    expect(r.hourPointsWritten).toBe(2);
    const stats1 = await stub.stats();
    expect(stats1).toMatchObject({ minutePoints: 1, hourPoints: 2 });
    const after = await stub.window(t0, t0 + HOUR_MS);
    const h = after.find((w) => w.family === hist.name)!;
    expect(h).toMatchObject({ count: 100, sum: 5050, min: 1, max: 100 });
    expect(h.counts).toEqual(before.find((w) => w.family === hist.name)!.counts);
    expect(percentiles(hist, h)).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(after.find((w) => w.family === counter.name)).toMatchObject({ count: 100, sum: 100 });
    // Totals are all-time and unaffected by downsampling.
    expect((await stub.totals(counter.name))[0]).toMatchObject({ count: 101, sum: 105 });

    expect(await stub.compact(t0 + 26 * HOUR_MS)).toMatchObject({ minutePointsMerged: 0, hourPointsWritten: 0 });
    expect(await stub.stats()).toMatchObject({ minutePoints: 1, hourPoints: 2 });

    // After 30 days the hourly points go too; the series still holding a recent point stays.
    const late = await stub.compact(t0 + HOUR_RETENTION_MS + 2 * HOUR_MS);
    expect(late.hourPointsDeleted).toBe(2);
    await runInDurableObject(stub, (instance: MetricsShard) => {
      expect(instance.stats()).toMatchObject({ hourPoints: 1, minutePoints: 0 });
    });
  });

  it('refuses a second type for a name, or other buckets, and writes nothing of a refused batch', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('unit-conflict'));
    const at = Date.now();
    expect(await stub.record([one(hist, 5)], at)).toEqual({ ok: true });
    const asGauge: Family = { ...hist, type: 'gauge', buckets: null };
    const otherBuckets: Family = { ...hist, buckets: [1, 2, 3] };
    expect(await stub.record([one(counter, 1), one(asGauge, 1)], at)).toMatchObject({ ok: false, code: 'conflict' });
    expect(await stub.record([one(otherBuckets, 1)], at)).toMatchObject({ ok: false, code: 'conflict' });
    expect(await stub.totals(counter.name)).toEqual([]);
    expect(await stub.window(at - MINUTE_MS, at + MINUTE_MS, hist.name)).toMatchObject([{ count: 1 }]);
  });
});
