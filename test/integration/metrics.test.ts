import { createScheduledController, env } from 'cloudflare:test';
// @ts-expect-error: the parser ships no type declarations; what it returns is checked below.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { HOUR_MS } from '../../src/metrics/model';
import { api, expectError, registerAndLogin, unique } from '../helpers';

type Sample = { name: string; labels: Record<string, string>; value: number };
type Exposition = { types: Map<string, string>; samples: Sample[] };

/*
 * The text format 0.0.4 grammar, checked strictly: parse-prometheus-text-format (below) is the
 * maintained npm parser, but it accepts malformed lines and keeps only one series of a labelled
 * histogram, so it cannot be the only judge. This follows the rules of Prometheus' own parser:
 * name and label syntax, only \\, \" and \n escapes, Go float syntax, one HELP and TYPE per
 * family before its samples, families contiguous, no duplicate series, and for histograms
 * cumulative buckets ending in le="+Inf" equal to _count.
 */
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
function parseStrict(text: string): Exposition {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current: string | null = null;
  const familyOf = (name: string) =>
    [...types.keys()].find(
      (f) => name === f || (['histogram', 'summary'].includes(types.get(f)!) && [`${f}_sum`, `${f}_count`, `${f}_bucket`].includes(name)),
    ) ?? name;
  const enter = (family: string) => {
    if (family === current) return;
    expect(closed.has(family), `family ${family} is not contiguous`).toBe(false);
    if (current) closed.add(current);
    current = family;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      expect(name).toMatch(NAME);
      enter(name);
      if (kind === 'HELP') {
        expect(helps.has(name), `second HELP for ${name}`).toBe(false);
        expect(rest).not.toMatch(/\\(?![\\n])/);
        helps.add(name);
      } else {
        expect(types.has(name), `second TYPE for ${name}`).toBe(false);
        expect(
          samples.some((x) => familyOf(x.name) === name),
          `TYPE after samples of ${name}`,
        ).toBe(false);
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        types.set(name, rest);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/.exec(line);
    expect(m, `not a valid sample line: ${line}`).not.toBeNull();
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    expect(value).toMatch(FLOAT);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      expect(k! in labels, `label ${k} twice in ${line}`).toBe(false);
      labels[k!] = v!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    enter(familyOf(name));
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    samples.push({ name, labels, value: value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value) });
  }
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const x of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = x.labels;
      expect(le).toMatch(FLOAT);
      const k = JSON.stringify(Object.entries(rest).sort());
      groups.set(k, [...(groups.get(k) ?? []), x]);
    }
    for (const [k, buckets] of groups) {
      const values = buckets.map((b) => b.value);
      expect(values, `${family} buckets are cumulative`).toEqual([...values].sort((a, b) => a - b));
      expect(buckets[buckets.length - 1]!.labels.le).toBe('+Inf');
      const count = samples.find((x) => x.name === `${family}_count` && JSON.stringify(Object.entries(x.labels).sort()) === k);
      expect(count?.value).toBe(values[values.length - 1]);
      expect(samples.some((x) => x.name === `${family}_sum` && JSON.stringify(Object.entries(x.labels).sort()) === k)).toBe(true);
    }
  }
  return { types, samples };
}

const series = (e: Exposition, name: string, match: Record<string, string> = {}) =>
  e.samples.filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v));

let admin: string;
let editor: string;
let viewer: string;
let scrapeKey: string;

beforeAll(async () => {
  admin = (await registerAndLogin()).token;
  const e = await registerAndLogin();
  const v = await registerAndLogin();
  expect(e.user.role).toBe('editor');
  expect((await api('PATCH', `/api/v3/auth/users/${v.user.id}`, { token: admin, body: { role: 'viewer' } })).status).toBe(200);
  editor = e.token;
  viewer = v.token;
  scrapeKey = (await api('POST', '/api/v3/auth/api-keys', { token: admin, body: { name: 'prometheus', scopes: ['metrics:read'] } })).json
    .key;
});

const family = (name: string, window = 60) => api('GET', `/api/v3/metrics/families/${name}?window_minutes=${window}`, { token: admin });
const scrape = async () => {
  const res = await api('GET', '/metrics', { headers: { authorization: `Bearer ${scrapeKey}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = res.json as string;
  const strict = parseStrict(text);
  // The npm parser must read it too, and see the same families with the same types.
  const lenient = parsePrometheusTextFormat(text) as { name: string; type: string }[];
  expect(Object.fromEntries(lenient.map((f) => [f.name, f.type.toLowerCase()]))).toEqual(Object.fromEntries(strict.types));
  return strict;
};

describe('custom metrics', () => {
  it("keeps the original API's path and body working", async () => {
    const res = await api('POST', '/api/v3/metrics/metrics/counter', {
      token: admin,
      body: { name: 'custom.metric', value: 1, metric_type: 'counter', category: 'application' },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({
      name: 'custom_metric_total',
      given_name: 'custom.metric',
      type: 'counter',
      category: 'application',
      value: 1,
    });
    expect((await family('custom.metric')).json.series[0]).toMatchObject({ count: 1, sum: 1 });
  });

  it('sums 200 concurrent increments exactly', async () => {
    const name = unique('concurrent.hits');
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        api('POST', '/api/v3/metrics/counter', { token: editor, body: { name, value: 1, labels: { worker: String(i % 2) } } }),
      ),
    );
    expect(results.filter((r) => r.status !== 201)).toEqual([]);
    const detail = await family(name);
    expect(detail.status).toBe(200);
    expect(detail.json.series.map((s: { sum: number }) => s.sum)).toEqual([100, 100]);
    const exposed = `${name.replace(/\./g, '_')}_total`;
    const e = await scrape();
    expect(e.types.get(exposed)).toBe('counter');
    expect(series(e, exposed).map((x) => x.value)).toEqual([100, 100]);
  });

  it('computes percentiles of a known series: histogram by interpolation, summary within 1 %, timer in seconds', async () => {
    const h = unique('latency.hist');
    const s = unique('latency.summary');
    const t = unique('job.timer');
    const buckets = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    // The first record fixes the histogram's buckets; the rest go at once.
    expect((await api('POST', '/api/v3/metrics/histogram', { token: admin, body: { name: h, value: 1, buckets } })).status).toBe(201);
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const results = await Promise.all(
      values.flatMap((v) => [
        ...(v > 1 ? [api('POST', '/api/v3/metrics/histogram', { token: admin, direct: true, body: { name: h, value: v } })] : []),
        api('POST', '/api/v3/metrics/summary', { token: admin, direct: true, body: { name: s, value: v } }),
        api('POST', '/api/v3/metrics/timer', { token: admin, direct: true, body: { name: t, value: v * 10 } }),
      ]),
    );
    expect(results.filter((r) => r.status !== 201)).toEqual([]);
    expect((await family(h)).json.series[0]).toMatchObject({ count: 100, sum: 5050, min: 1, max: 100, p50: 50, p95: 95, p99: 99 });
    const summary = (await family(s)).json.series[0];
    for (const [q, exact] of [
      ['p50', 50],
      ['p95', 95],
      ['p99', 99],
    ] as const)
      expect(Math.abs(summary[q] - exact) / exact).toBeLessThanOrEqual(0.01);
    const timer = await family(t);
    expect(timer.json).toMatchObject({ name: `${t.replace(/\./g, '_')}_seconds`, type: 'timer', unit: 'seconds' });
    expect(timer.json.series[0]).toMatchObject({ count: 100, min: 0.01, max: 1 });
    expect(timer.json.series[0].sum).toBeCloseTo(50.5, 9);

    const e = await scrape();
    const hn = h.replace(/\./g, '_');
    expect(e.types.get(hn)).toBe('histogram');
    expect(Object.fromEntries(series(e, `${hn}_bucket`).map((x) => [x.labels.le, x.value]))).toMatchObject({
      '10': 10,
      '50': 50,
      '100': 100,
      '+Inf': 100,
    });
    expect([series(e, `${hn}_count`)[0]!.value, series(e, `${hn}_sum`)[0]!.value]).toEqual([100, 5050]);
    const sn = s.replace(/\./g, '_');
    expect(e.types.get(sn)).toBe('summary');
    expect(Math.abs(series(e, sn, { quantile: '0.5' })[0]!.value - 50)).toBeLessThanOrEqual(0.5);
    expect(e.types.get(`${t.replace(/\./g, '_')}_seconds`)).toBe('histogram');
  });

  it('sets and adds to gauges', async () => {
    const name = unique('queue.depth');
    await api('POST', '/api/v3/metrics/gauge', { token: admin, body: { name, value: 10 } });
    await api('POST', '/api/v3/metrics/gauge', { token: admin, body: { name, value: -3, mode: 'add' } });
    const res = await api('GET', '/api/v3/metrics/export', { token: admin });
    const exported = res.json.families.find((f: { name: string }) => f.name === name.replace(/\./g, '_'));
    expect(exported.series[0]).toMatchObject({ value: 7 });
    expect((await family(name)).json.series[0]).toMatchObject({ last: 7, min: 7, max: 10 });
  });

  it('answers bad input with 400 and records nothing', async () => {
    const name = unique('bad.input');
    const bad = [
      { path: 'counter', body: { name: '9starts.with.digit', value: 1 } },
      { path: 'counter', body: { name, value: -1 } },
      { path: 'counter', body: { name, value: 1, metric_type: 'gauge' } },
      { path: 'counter', body: { name, value: 1, labels: { le: '1' } } },
      { path: 'counter', body: { name, value: 1, labels: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, 'v'])) } },
      { path: 'counter', body: { name, value: 1, labels: { k: 'x'.repeat(129) } } },
      { path: 'counter', body: { name, value: 1, role: 'admin' } },
      { path: 'counter', body: { name: 'dwc_http_requests', value: 1 } },
      { path: 'histogram', body: { name } },
      { path: 'histogram', body: { name, value: 1, buckets: [2, 1] } },
      { path: 'gauge', body: { name, value: 1, buckets: [1] } },
      { path: 'counter', body: { name, value: 'one' } },
    ];
    for (const b of bad)
      expectError(await api('POST', `/api/v3/metrics/${b.path}`, { token: admin, body: b.body }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/metrics/ratio', { token: admin, body: { name, value: 1 } }), 400, 'validation_error');
    expectError(await family(name), 404, 'not_found');
    const list = await api('GET', '/api/v3/metrics/families?limit=100', { token: admin });
    expect(JSON.stringify(list.json)).not.toContain(name.replace(/\./g, '_'));
  });

  it("fixes a name's type and buckets at its first record (409 after)", async () => {
    const name = unique('typed');
    expect((await api('POST', '/api/v3/metrics/histogram', { token: admin, body: { name, value: 1, buckets: [1, 2] } })).status).toBe(201);
    expectError(await api('POST', '/api/v3/metrics/summary', { token: admin, body: { name, value: 1 } }), 409, 'conflict');
    expectError(
      await api('POST', '/api/v3/metrics/histogram', { token: admin, body: { name, value: 1, buckets: [1, 3] } }),
      409,
      'conflict',
    );
    expect((await api('POST', '/api/v3/metrics/histogram', { token: admin, body: { name, value: 1.5 } })).status).toBe(201);
    expect((await family(name)).json).toMatchObject({ buckets: [1, 2], series: [{ count: 2 }] });
  });
});

describe('HTTP metrics, overview and export', () => {
  it('counts requests by route template and status, with a latency histogram', async () => {
    const ids = [999_001, 999_002, 999_003];
    for (const id of ids) expect((await api('GET', `/api/v3/workflows/${id}`, { token: admin })).status).toBe(404);
    // Sent after the responses, in waitUntil: wait until the flushes have landed.
    await vi.waitFor(
      async () => {
        const e = await scrape();
        expect(
          series(e, 'dwc_http_requests_total', { method: 'GET', route: '/api/v3/workflows/:id', status: '404' }).map((x) => x.value),
        ).toEqual([3]);
        // Never the raw URL: no label holds an id.
        expect(e.samples.some((x) => Object.values(x.labels).some((v) => v.includes('999001')))).toBe(false);
        expect(e.types.get('dwc_http_request_duration_seconds')).toBe('histogram');
        expect(
          series(e, 'dwc_http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v3/workflows/:id', le: '+Inf' }).map(
            (x) => x.value,
          ),
        ).toEqual([3]);
      },
      { timeout: 10_000, interval: 100 },
    );

    const overview = await api('GET', '/api/v3/metrics/metrics/system/overview?window_minutes=5', { token: admin });
    expect(overview.status).toBe(200);
    expect(overview.json.platform.host_metrics).toMatch(/Not available/);
    expect(overview.json.platform.cpu_time).toMatch(/Not measurable/);
    expect(overview.json.http.requests).toBeGreaterThanOrEqual(3);
    expect(overview.json.http.top_routes.some((r: { route: string }) => r.route === 'GET /api/v3/workflows/:id')).toBe(true);
    expect(overview.json.storage.metrics_shards_bytes).toHaveLength(4);
    // From D1's own meta.size_after, which local D1 reports too.
    expect(overview.json.storage.d1_size_bytes).toBeGreaterThan(0);
    expect(overview.json.storage.d1_rows_read_for_this_overview).toBeGreaterThan(0);
    const canonical = await api('GET', '/api/v3/metrics/overview', { token: admin });
    expect(canonical.status).toBe(200);
  });

  it('derives workflow, task and schedule metrics from D1 rows', async () => {
    const before = (await api('GET', '/api/v3/metrics/overview', { token: admin })).json;
    await env.DB.prepare(
      "INSERT INTO schedules (owner_id, name, kind, spec, timezone, overlap, catch_up_seconds, max_retries, state) VALUES (1, 'm', 'cron', '{}', 'UTC', 'skip', 0, 0, 'paused')",
    ).run();
    const after = (await api('GET', '/api/v3/metrics/overview', { token: admin })).json;
    expect(after.schedules.by_state.paused).toBe((before.schedules.by_state.paused ?? 0) + 1);
    const e = await scrape();
    expect(series(e, 'dwc_schedules', { state: 'paused' }).map((x) => x.value)).toEqual([after.schedules.by_state.paused]);
    expect(e.types.get('dwc_users')).toBe('gauge');
    expect(series(e, 'dwc_users')[0]!.value).toBe(3);
  });

  it("reports the service's own figures on both paths", async () => {
    for (const path of ['/api/v3/metrics/service/stats', '/api/v3/metrics/stats']) {
      const res = await api('GET', path, { token: admin });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ shards: 4, retention: { minute_points_hours: 24, hour_points_days: 30 } });
      expect(res.json.families.total).toBeGreaterThan(0);
    }
  });

  it('downsamples old points from the cron tick', async () => {
    const stub = env.METRICS.get(env.METRICS.idFromName('metrics:0'));
    const old = Date.now() - 3 * 24 * HOUR_MS;
    const fam = {
      name: 'cron_old_total',
      given: 'cron.old',
      type: 'counter' as const,
      help: '',
      unit: null,
      category: 'test',
      buckets: null,
    };
    expect(await stub.record([{ family: fam, labels: {}, count: 1, sum: 4, min: 4, max: 4, last: 4 }], old)).toEqual({ ok: true });
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
    const stats = await stub.stats();
    expect(stats.hourPoints).toBeGreaterThanOrEqual(1);
    const windows = await stub.window(old - HOUR_MS, old + HOUR_MS, 'cron_old_total');
    expect(windows).toMatchObject([{ count: 1, sum: 4 }]);
    expect((await api('GET', '/api/v3/metrics/stats', { token: admin })).json.last_compaction_at).not.toBeNull();
  });
});

describe('metrics access', () => {
  it('lets editors record and read custom metrics, and keeps system views for admins', async () => {
    const name = unique('access');
    expectError(await api('POST', '/api/v3/metrics/counter', { token: viewer, body: { name } }), 403, 'forbidden');
    expect((await api('POST', '/api/v3/metrics/counter', { token: editor, body: { name } })).status).toBe(201);
    expect((await api('GET', `/api/v3/metrics/families/${name}`, { token: editor })).status).toBe(200);
    for (const path of ['/metrics', '/api/v3/metrics/overview', '/api/v3/metrics/export', '/api/v3/metrics/stats']) {
      expectError(await api('GET', path, { token: editor }), 403, 'forbidden');
      expectError(await api('GET', path), 401, 'unauthorized');
    }
    expect((await api('GET', '/metrics', { apiKey: scrapeKey })).status).toBe(200);
  });
});
