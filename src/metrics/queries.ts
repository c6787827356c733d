import { addCounts } from './buckets';
import { labelKey, type Delta, type Family, type RecordResult, type SeriesTotal, type SeriesWindow } from './model';
import { mergeWindows } from './points';
import { metricsShard } from './rpc';

/**
 * The metric shards, as the Worker sees them. Four objects: a custom family always goes to the
 * shard its name hashes to (so one object decides its type), while HTTP series may be in any of
 * them, so every read asks all four at once and merges. Four is a guess at headroom, not a
 * measured need: one object serialises its writes, and HTTP flushes from many isolates are the
 * bulk of them. Changing the number moves custom families to other shards, so it is fixed.
 */
export const SHARDS = 4;

/** FNV-1a: a stable, cheap string hash; only its spread matters here. */
export function shardFor(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARDS;
}

const everyShard = <T>(env: Env, f: (s: ReturnType<typeof metricsShard>) => Promise<T>) =>
  Promise.all(Array.from({ length: SHARDS }, (_, i) => f(metricsShard(env, i))));

/** Records one custom observation in its family's shard; resolves once it is stored. */
export const recordCustom = (env: Env, delta: Delta, at: number): Promise<RecordResult> =>
  metricsShard(env, shardFor(delta.family.name)).record([delta], at);

export async function allFamilies(env: Env): Promise<Family[]> {
  const byName = new Map<string, Family>();
  for (const list of await everyShard(env, (s) => s.families())) for (const f of list) if (!byName.has(f.name)) byName.set(f.name, f);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Every series' aggregate over [from, to), one entry per family and label set. */
export async function allWindows(env: Env, from: number, to: number, family?: string): Promise<SeriesWindow[]> {
  const merged = new Map<string, SeriesWindow>();
  for (const list of await everyShard(env, (s) => s.window(from, to, family))) {
    for (const w of list) {
      const k = `${w.family}\n${labelKey(w.labels)}`;
      const prev = merged.get(k);
      merged.set(k, prev ? mergeWindows(prev, w) : w);
    }
  }
  return [...merged.values()];
}

/** Every series' all-time state; a series found in several shards (HTTP) is summed. */
export async function allTotals(env: Env, family?: string): Promise<SeriesTotal[]> {
  const merged = new Map<string, SeriesTotal>();
  for (const list of await everyShard(env, (s) => s.totals(family))) {
    for (const t of list) {
      const k = `${t.family}\n${labelKey(t.labels)}`;
      const prev = merged.get(k);
      merged.set(
        k,
        prev
          ? {
              ...prev,
              count: prev.count + t.count,
              sum: prev.sum + t.sum,
              // Only additive families are spread over shards; a gauge has one home, so this never mixes gauges.
              value: t.updatedAt > prev.updatedAt ? t.value : prev.value,
              counts: prev.counts && t.counts ? addCounts([...prev.counts], t.counts) : (prev.counts ?? t.counts),
              updatedAt: Math.max(prev.updatedAt, t.updatedAt),
            }
          : t,
      );
    }
  }
  return [...merged.values()];
}

export const shardStats = (env: Env) => everyShard(env, (s) => s.stats());

export const compactAll = (env: Env, now: number) => everyShard(env, (s) => s.compact(now));
