import type { Sketch } from './sketch';

/**
 * What the metrics store holds, shared by the worker and the `MetricsShard` objects. Plain data
 * only: everything here crosses Durable Object RPC.
 */
export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary', 'timer'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export type Labels = Record<string, string>;

/** A metric family: one exposed name, one type, one help text, one set of buckets. */
export type Family = {
  /** The Prometheus name, e.g. `custom_metric_total` for the counter `custom.metric`. */
  name: string;
  /** The name as given when it was first recorded (`custom.metric`). */
  given: string;
  type: MetricType;
  help: string;
  unit: string | null;
  category: string;
  /** Finite upper bounds, for histograms and timers; null for the others. */
  buckets: number[] | null;
};

/**
 * A change to one series, already aggregated by the sender: one observation of a custom metric,
 * or everything an isolate saw of one HTTP route and status since its last flush.
 */
export type Delta = {
  family: Family;
  labels: Labels;
  /** Observations (counter: increments; gauge: sets or adds). */
  count: number;
  /** Sum of the observed values (counter: the increase; gauge add: the change). */
  sum: number;
  min: number;
  max: number;
  /** The last observed value (gauge set: the new value). */
  last: number;
  /** Per-bucket counts, for histograms and timers. */
  counts?: number[];
  /** Summaries only. */
  sketch?: Sketch;
  /** Gauges only: replace the value, or add `sum` to it. */
  gauge?: 'set' | 'add';
};

/** A series' window aggregate, as the shards return it and the worker merges it. */
export type SeriesWindow = {
  family: string;
  labels: Labels;
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  /** The last value observed in the window and when (gauges: the value then). */
  last: number | null;
  lastAt: number | null;
  counts: number[] | null;
  sketch: Sketch | null;
};

/** A series' all-time state: what Prometheus scrapes (counters never go down between scrapes). */
export type SeriesTotal = {
  family: string;
  labels: Labels;
  count: number;
  sum: number;
  /** Gauges: the current value. */
  value: number;
  counts: number[] | null;
  updatedAt: number;
};

export type RecordResult = { ok: true } | { ok: false; code: 'conflict'; message: string };

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** Per-minute points are kept this long, then merged into hourly points. */
export const MINUTE_RETENTION_MS = 24 * HOUR_MS;
/** Hourly points are kept this long, then deleted. */
export const HOUR_RETENTION_MS = 30 * 24 * HOUR_MS;
/** Summaries' quantiles in `/metrics` cover this trailing window (Prometheus clients' default). */
export const SUMMARY_WINDOW_MS = 10 * MINUTE_MS;
/** Label combinations one family may have; past it, new combinations are refused. */
export const MAX_SERIES_PER_FAMILY = 1000;

export const labelKey = (labels: Labels) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
