import { addCounts } from './buckets';
import { deriveMetrics, DERIVED_FAMILIES } from './derived';
import { HTTP_DURATION, HTTP_REQUESTS } from './http';
import { HOUR_RETENTION_MS, MAX_SERIES_PER_FAMILY, METRIC_TYPES, MINUTE_RETENTION_MS, type SeriesTotal, type SeriesWindow } from './model';
import { RELATIVE_ACCURACY } from './sketch';
import { allFamilies, allWindows, SHARDS, shardStats } from './queries';
import { percentiles } from './views';

/** What a Worker cannot report about its host, said once, where a reader looks for host figures. */
export const PLATFORM_LIMITS = {
  host_metrics:
    'Not available: a Worker runs in an isolate on shared Cloudflare machines and has no access to host CPU, memory, disk or network figures.',
  cpu_time:
    'Not measurable inside a Worker: the clock only advances across I/O (a Spectre mitigation), so request durations here are wall time across I/O. CPU time per invocation is in the Cloudflare dashboard and Workers Logs.',
  memory: 'Not reported: the isolate heap size is not exposed to Worker code.',
};

const sumWindows = (list: SeriesWindow[]) =>
  list.reduce(
    (acc, w) => ({
      count: acc.count + w.count,
      sum: acc.sum + w.sum,
      counts: w.counts ? addCounts(acc.counts ?? [], w.counts) : acc.counts,
      min: acc.min === null ? w.min : w.min === null ? acc.min : Math.min(acc.min, w.min),
      max: acc.max === null ? w.max : w.max === null ? acc.max : Math.max(acc.max, w.max),
    }),
    { count: 0, sum: 0, counts: null as number[] | null, min: null as number | null, max: null as number | null },
  );

const byLabel = (totals: SeriesTotal[], family: string, label: string) =>
  Object.fromEntries(totals.filter((t) => t.family === family).map((t) => [t.labels[label] ?? '', t.value]));

/**
 * The system overview: HTTP traffic over a window (from the shards), workflow, AI, task and
 * schedule figures (derived from D1 rows), and the storage figures the platform does give.
 */
export async function systemOverview(env: Env, windowMinutes: number, now = Date.now()) {
  const from = now - windowMinutes * 60_000;
  const [requests, durations, derived, shards] = await Promise.all([
    allWindows(env, from, now + 1, HTTP_REQUESTS.name),
    allWindows(env, from, now + 1, HTTP_DURATION.name),
    deriveMetrics(env.DB, now),
    shardStats(env),
  ]);
  const seconds = windowMinutes * 60;
  const total = requests.reduce((a, w) => a + w.sum, 0);
  const withStatus = (test: (s: number) => boolean) => requests.filter((w) => test(Number(w.labels.status))).reduce((a, w) => a + w.sum, 0);
  const errors = withStatus((s) => s >= 500);
  const routes = new Map<string, SeriesWindow[]>();
  for (const w of durations)
    routes.set(`${w.labels.method} ${w.labels.route}`, [...(routes.get(`${w.labels.method} ${w.labels.route}`) ?? []), w]);
  const topRoutes = [...routes.entries()]
    .map(([key, list]) => ({ key, agg: sumWindows(list) }))
    .sort((a, b) => b.agg.count - a.agg.count)
    .slice(0, 10)
    .map(({ key, agg }) => ({ route: key, requests: agg.count, ...percentiles(HTTP_DURATION, { ...agg, sketch: null }) }));
  const all = sumWindows(durations);
  const t = derived.totals;
  const F = DERIVED_FAMILIES;
  const latency = t.find((x) => x.family === F.nodeLatency.name)!;
  return {
    generated_at: new Date(now).toISOString(),
    window_minutes: windowMinutes,
    platform: { runtime: 'Cloudflare Workers', ...PLATFORM_LIMITS },
    http: {
      requests: total,
      rate_per_second: total / seconds,
      server_errors: errors,
      client_errors: withStatus((s) => s >= 400 && s < 500),
      error_rate: total ? errors / total : 0,
      latency_seconds: { ...percentiles(HTTP_DURATION, { ...all, sketch: null }), max: all.max },
      top_routes: topRoutes,
    },
    workflows: {
      runs_by_status: byLabel(t, F.runs.name, 'status'),
      node_attempts_by_status: Object.fromEntries(t.filter((x) => x.family === F.nodeAttempts.name).map((x) => [x.labels.status, x.sum])),
      node_retries: t.find((x) => x.family === F.nodeRetries.name)?.sum ?? 0,
      node_attempt_seconds: {
        count: latency.count,
        ...percentiles(F.nodeLatency, { counts: latency.counts, sketch: null, min: null, max: null }),
      },
      tokens: t
        .filter((x) => x.family === F.tokens.name)
        .map((x) => ({ provider: x.labels.provider, model: x.labels.model, direction: x.labels.direction, tokens: x.sum })),
    },
    tasks: {
      by_type_and_status: t
        .filter((x) => x.family === F.tasks.name)
        .map((x) => ({ type: x.labels.type, status: x.labels.status, count: x.value })),
    },
    schedules: {
      by_state: byLabel(t, F.schedules.name, 'state'),
      fires_by_outcome: Object.fromEntries(t.filter((x) => x.family === F.fires.name).map((x) => [x.labels.outcome, x.sum])),
    },
    storage: {
      d1_size_bytes: derived.d1.sizeBytes,
      d1_rows_read_for_this_overview: derived.d1.rowsRead,
      metrics_shards_bytes: shards.map((s) => s.storageBytes),
      other_durable_objects: "Not reported: an object knows only its own storage size; ask Cloudflare's GraphQL analytics for the rest.",
    },
  };
}

/** The metrics service itself: what it stores, where, and how long. */
export async function serviceStats(env: Env) {
  const [shards, families] = await Promise.all([shardStats(env), allFamilies(env)]);
  const sum = (k: 'series' | 'minutePoints' | 'hourPoints' | 'storageBytes') => shards.reduce((a, s) => a + s[k], 0);
  const last = shards.map((s) => s.lastCompactionAt).filter((v): v is number => v !== null);
  return {
    shards: SHARDS,
    families: {
      total: families.length,
      by_type: Object.fromEntries(METRIC_TYPES.map((type) => [type, families.filter((f) => f.type === type).length])),
    },
    derived_families: Object.keys(DERIVED_FAMILIES).length,
    series: sum('series'),
    points: { minute: sum('minutePoints'), hour: sum('hourPoints') },
    storage_bytes: sum('storageBytes'),
    retention: { minute_points_hours: MINUTE_RETENTION_MS / 3_600_000, hour_points_days: HOUR_RETENTION_MS / 86_400_000 },
    limits: { series_per_family: MAX_SERIES_PER_FAMILY },
    summary_relative_accuracy: RELATIVE_ACCURACY,
    // The oldest of the shards' last compactions: every shard has been compacted since then.
    last_compaction_at: last.length === SHARDS ? new Date(Math.min(...last)).toISOString() : null,
  };
}
