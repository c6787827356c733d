import { DurableObject } from 'cloudflare:workers';
import type { CompactResult, MetricsShardRpc, ShardStats } from '../src/metrics/rpc';
import {
  HOUR_MS,
  HOUR_RETENTION_MS,
  labelKey,
  MAX_SERIES_PER_FAMILY,
  MINUTE_MS,
  MINUTE_RETENTION_MS,
  type Delta,
  type Family,
  type Labels,
  type RecordResult,
  type SeriesTotal,
  type SeriesWindow,
} from '../src/metrics/model';
import { addCounts, DEFAULT_BUCKETS } from '../src/metrics/buckets';
import { completeDelta, deltaPoint, mergePoints, type Point } from '../src/metrics/points';
import type { Sketch } from '../src/metrics/sketch';

/**
 * MetricsShard — one of a fixed set of objects (`idFromName("metrics:0")` … `"metrics:3"`, see
 * src/metrics/store.ts) that together hold every metric. A custom family lives in the shard its
 * name hashes to, so one object decides its type and buckets once and for all; HTTP series, which
 * are only ever added to, are spread over the shards by isolate and summed when read.
 *
 * Why an object and not module memory: isolates come and go and several run at once, so only a
 * single writer can make concurrent increments sum exactly. Each `record` runs its reads and
 * writes in one `transactionSync`, with no `await`, and an object runs one such turn at a time, so
 * two increments can never read the same old value; the transaction also means a refused batch
 * writes nothing. Everything is in SQLite storage, which is durable: nothing is lost on eviction.
 *
 * Tables: `families` (name → type, help, buckets), `series` (one row per label set, with its
 * all-time count, sum, bucket counts and gauge value, which is what Prometheus scrapes), and
 * `points` (per-minute aggregates, merged into hourly ones after a day by `compact`, run from the
 * Worker's cron, and deleted after 30 days).
 */
type FamilyRow = { name: string; given: string; type: string; help: string; unit: string | null; category: string; buckets: string | null };
type SeriesRow = {
  id: number;
  family: string;
  labels: string;
  count: number;
  sum: number;
  value: number;
  counts: string | null;
  updated_at: number;
};
type PointRow = {
  series_id: number;
  step: number;
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  last_at: number;
  counts: string | null;
  sketch: string | null;
};

const toFamily = (r: FamilyRow): Family => ({
  name: r.name,
  given: r.given,
  type: r.type as Family['type'],
  help: r.help,
  unit: r.unit,
  category: r.category,
  buckets: r.buckets ? (JSON.parse(r.buckets) as number[]) : null,
});
const toPoint = (r: PointRow): Point => ({
  count: r.count,
  sum: r.sum,
  min: r.min,
  max: r.max,
  last: r.last,
  lastAt: r.last_at,
  counts: r.counts ? (JSON.parse(r.counts) as number[]) : null,
  sketch: r.sketch ? (JSON.parse(r.sketch) as Sketch) : null,
});
class Refused extends Error {}

const sameBuckets = (a: number[] | null, b: number[] | null) => JSON.stringify(a) === JSON.stringify(b);

export class MetricsShard extends DurableObject<Env> implements MetricsShardRpc {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS families (name TEXT PRIMARY KEY, given TEXT NOT NULL, type TEXT NOT NULL, help TEXT NOT NULL,
      unit TEXT, category TEXT NOT NULL, buckets TEXT, created_at INTEGER NOT NULL)`);
    sql.exec(`CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, family TEXT NOT NULL, labels TEXT NOT NULL, count INTEGER NOT NULL,
      sum REAL NOT NULL, value REAL NOT NULL, counts TEXT, updated_at INTEGER NOT NULL, UNIQUE (family, labels))`);
    sql.exec(`CREATE TABLE IF NOT EXISTS points (series_id INTEGER NOT NULL, step INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL,
      sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, last REAL NOT NULL, last_at INTEGER NOT NULL, counts TEXT, sketch TEXT,
      PRIMARY KEY (series_id, step, start))`);
    sql.exec('CREATE INDEX IF NOT EXISTS points_step_start ON points (step, start)');
    sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  }

  private family(name: string): Family | null {
    const row = this.ctx.storage.sql
      .exec<FamilyRow>('SELECT name, given, type, help, unit, category, buckets FROM families WHERE name = ?', name)
      .toArray()[0];
    return row ? toFamily(row) : null;
  }

  /**
   * Applies deltas taken at `at`, all or none. A family is defined by its first record; a later
   * one of another type, or with other buckets, is refused, as is a new label set past
   * MAX_SERIES_PER_FAMILY.
   */
  record(deltas: Delta[], at: number): RecordResult {
    try {
      this.ctx.storage.transactionSync(() => {
        for (const d of deltas) this.apply(d, at);
      });
      return { ok: true };
    } catch (err) {
      // Thrown inside the transaction, so whatever the batch had written is rolled back.
      if (err instanceof Refused) return { ok: false, code: 'conflict', message: err.message };
      throw err;
    }
  }

  private apply(d: Delta, at: number) {
    const sql = this.ctx.storage.sql;
    const known = this.family(d.family.name);
    if (known && known.type !== d.family.type) throw new Refused(`${d.family.name} is a ${known.type}, not a ${d.family.type}`);
    if (known && d.family.buckets && !sameBuckets(known.buckets, d.family.buckets))
      throw new Refused(`${d.family.name} has other buckets: ${JSON.stringify(known.buckets)}`);
    // A new histogram or timer without buckets of its own gets the default ones, once and for all.
    const bucketed = d.family.type === 'histogram' || d.family.type === 'timer';
    const family = known ?? { ...d.family, buckets: bucketed ? (d.family.buckets ?? DEFAULT_BUCKETS) : null };
    if (!known) {
      sql.exec(
        'INSERT INTO families (name, given, type, help, unit, category, buckets, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        family.name,
        family.given,
        family.type,
        family.help,
        family.unit,
        family.category,
        family.buckets ? JSON.stringify(family.buckets) : null,
        at,
      );
    }
    const key = labelKey(d.labels);
    let series = sql.exec<SeriesRow>('SELECT * FROM series WHERE family = ? AND labels = ?', family.name, key).toArray()[0];
    if (!series) {
      const n = sql.exec<{ n: number }>('SELECT count(*) AS n FROM series WHERE family = ?', family.name).one().n;
      // Built-in (`dwc_`) families are bounded by the app's routes; only custom ones need the cap.
      if (n >= MAX_SERIES_PER_FAMILY && !family.name.startsWith('dwc_'))
        throw new Refused(`${family.name} already has ${MAX_SERIES_PER_FAMILY} label combinations`);
      series = sql
        .exec<SeriesRow>(
          'INSERT INTO series (family, labels, count, sum, value, counts, updated_at) VALUES (?, ?, 0, 0, 0, NULL, ?) RETURNING *',
          family.name,
          key,
          at,
        )
        .one();
    }
    const delta = completeDelta(d, family);
    const counts = delta.counts
      ? JSON.stringify(addCounts(series.counts ? (JSON.parse(series.counts) as number[]) : [], delta.counts))
      : series.counts;
    const value = delta.gauge === 'set' ? delta.last : delta.gauge === 'add' ? series.value + delta.sum : series.value;
    // Each value is finite (JSON has no Infinity), but a total of finite ones is not always: two
    // records of 1e308 would leave +Inf in the series for good, since nothing can be added back.
    if (!Number.isFinite(series.sum + delta.sum) || !Number.isFinite(value))
      throw new Refused(`${family.name}: this value would make its total non-finite`);
    sql.exec(
      'UPDATE series SET count = count + ?, sum = sum + ?, value = ?, counts = ?, updated_at = ? WHERE id = ?',
      delta.count,
      delta.sum,
      value,
      counts,
      at,
      series.id,
    );
    // A gauge's point records the values it took, so its min, max and last are values, not changes.
    const point = deltaPoint(delta.gauge === 'add' ? { ...delta, min: value, max: value, last: value } : delta, at);
    this.mergePoint(series.id, MINUTE_MS, Math.floor(at / MINUTE_MS) * MINUTE_MS, point);
  }

  private mergePoint(seriesId: number, step: number, start: number, point: Point) {
    const sql = this.ctx.storage.sql;
    const old = sql
      .exec<PointRow>('SELECT * FROM points WHERE series_id = ? AND step = ? AND start = ?', seriesId, step, start)
      .toArray()[0];
    const p = old ? mergePoints(toPoint(old), point) : point;
    sql.exec(
      `INSERT OR REPLACE INTO points (series_id, step, start, count, sum, min, max, last, last_at, counts, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      seriesId,
      step,
      start,
      p.count,
      p.sum,
      p.min,
      p.max,
      p.last,
      p.lastAt,
      p.counts ? JSON.stringify(p.counts) : null,
      p.sketch ? JSON.stringify(p.sketch) : null,
    );
  }

  families(): Family[] {
    return this.ctx.storage.sql
      .exec<FamilyRow>('SELECT name, given, type, help, unit, category, buckets FROM families ORDER BY name')
      .toArray()
      .map(toFamily);
  }

  /** All-time state of every series (or of one family's), for exports. */
  totals(family?: string): SeriesTotal[] {
    const rows = family
      ? this.ctx.storage.sql.exec<SeriesRow>('SELECT * FROM series WHERE family = ?', family).toArray()
      : this.ctx.storage.sql.exec<SeriesRow>('SELECT * FROM series').toArray();
    return rows.map((r) => ({
      family: r.family,
      labels: JSON.parse(r.labels) as Labels,
      count: r.count,
      sum: r.sum,
      value: r.value,
      counts: r.counts ? (JSON.parse(r.counts) as number[]) : null,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * Each series' aggregate over the points starting in [from, to): minute points where they are
   * still kept, hourly ones before that (an hour is counted whole if it starts in the window).
   */
  window(from: number, to: number, family?: string): SeriesWindow[] {
    const sql = this.ctx.storage.sql;
    // Every observation is in exactly one point (compaction deletes the minutes it merges), so
    // minute and hourly points can be summed without counting anything twice.
    const base = 'SELECT p.*, s.family, s.labels FROM points p JOIN series s ON s.id = p.series_id WHERE p.start >= ? AND p.start < ?';
    const rows = family
      ? sql.exec<PointRow & { family: string; labels: string }>(`${base} AND s.family = ? ORDER BY p.start`, from, to, family).toArray()
      : sql.exec<PointRow & { family: string; labels: string }>(`${base} ORDER BY p.start`, from, to).toArray();
    const bySeries = new Map<number, { family: string; labels: string; point: Point }>();
    for (const r of rows) {
      const prev = bySeries.get(r.series_id);
      bySeries.set(r.series_id, { family: r.family, labels: r.labels, point: prev ? mergePoints(prev.point, toPoint(r)) : toPoint(r) });
    }
    return [...bySeries.values()].map(({ family, labels, point: p }) => ({
      family,
      labels: JSON.parse(labels) as Labels,
      count: p.count,
      sum: p.sum,
      min: p.min,
      max: p.max,
      last: p.last,
      lastAt: p.lastAt,
      counts: p.counts,
      sketch: p.sketch,
    }));
  }

  /**
   * Retention: minute points of hours that ended more than MINUTE_RETENTION_MS ago are merged
   * into one hourly point per series (merged with an hourly point already there, so running it
   * twice changes nothing), hourly points older than HOUR_RETENTION_MS are deleted, and so are
   * series with no point left that have not changed since then. One transaction: a failed run
   * leaves everything as it was.
   */
  compact(now: number): CompactResult {
    return this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      const cutoff = Math.floor((now - MINUTE_RETENTION_MS) / HOUR_MS) * HOUR_MS;
      const old = sql.exec<PointRow>(`SELECT * FROM points WHERE step = ${MINUTE_MS} AND start < ? ORDER BY start`, cutoff).toArray();
      const hours = new Map<string, { seriesId: number; start: number; point: Point }>();
      for (const r of old) {
        const start = Math.floor(r.start / HOUR_MS) * HOUR_MS;
        const k = `${r.series_id}:${start}`;
        const prev = hours.get(k);
        hours.set(k, { seriesId: r.series_id, start, point: prev ? mergePoints(prev.point, toPoint(r)) : toPoint(r) });
      }
      for (const h of hours.values()) this.mergePoint(h.seriesId, HOUR_MS, h.start, h.point);
      sql.exec(`DELETE FROM points WHERE step = ${MINUTE_MS} AND start < ?`, cutoff);
      const expired = now - HOUR_RETENTION_MS;
      const hourPointsDeleted = sql.exec(`DELETE FROM points WHERE step = ${HOUR_MS} AND start < ?`, expired).rowsWritten;
      const seriesDeleted = sql.exec(
        'DELETE FROM series WHERE updated_at < ? AND NOT EXISTS (SELECT 1 FROM points WHERE series_id = series.id)',
        expired,
      ).rowsWritten;
      sql.exec("INSERT INTO meta (key, value) VALUES ('last_compaction_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", now);
      return { minutePointsMerged: old.length, hourPointsWritten: hours.size, hourPointsDeleted, seriesDeleted };
    });
  }

  stats(): ShardStats {
    const sql = this.ctx.storage.sql;
    const n = (q: string) => sql.exec<{ n: number }>(q).one().n;
    const last = sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'last_compaction_at'").toArray()[0];
    return {
      families: n('SELECT count(*) AS n FROM families'),
      series: n('SELECT count(*) AS n FROM series'),
      minutePoints: n(`SELECT count(*) AS n FROM points WHERE step = ${MINUTE_MS}`),
      hourPoints: n(`SELECT count(*) AS n FROM points WHERE step = ${HOUR_MS}`),
      // SQLite's page count × page size for this object's database, as the platform reports it.
      storageBytes: sql.databaseSize,
      lastCompactionAt: last?.value ?? null,
    };
  }
}
