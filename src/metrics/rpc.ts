import { objectStub } from '../lib/stubs';
import type { Delta, Family, RecordResult, SeriesTotal, SeriesWindow } from './model';

export type ShardStats = {
  families: number;
  series: number;
  minutePoints: number;
  hourPoints: number;
  storageBytes: number;
  lastCompactionAt: number | null;
};
export type CompactResult = { minutePointsMerged: number; hourPointsWritten: number; hourPointsDeleted: number; seriesDeleted: number };

/** One metrics shard (durable-objects/metrics-shard.ts): families, series and their points. */
export interface MetricsShardRpc {
  /** Applies deltas taken at `at`, all or none. */
  record(deltas: Delta[], at: number): RecordResult;
  families(): Family[];
  totals(family?: string): SeriesTotal[];
  window(from: number, to: number, family?: string): SeriesWindow[];
  /** Merges old minute points into hours and drops what retention no longer keeps. */
  compact(now: number): CompactResult;
  stats(): ShardStats;
}

export const metricsShard = (env: Env, i: number) => objectStub<MetricsShardRpc>(env.METRICS, `metrics:${i}`);
