import { addCounts, bucketIndex, emptyCounts } from './buckets';
import type { Delta, Family, SeriesWindow } from './model';
import { addToSketch, emptySketch, mergeSketch, type Sketch } from './sketch';

/**
 * One stored point: a series' aggregate over one minute or one hour. Merging two points (a delta
 * into a minute, minutes into an hour, the same series from several shards) is the same
 * operation everywhere, so it lives here, as pure functions, and is unit-tested.
 */
export type Point = {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastAt: number;
  counts: number[] | null;
  sketch: Sketch | null;
};

/** A delta carrying one raw observation, completed with the family's own buckets. */
export function completeDelta(delta: Delta, family: Family): Delta {
  const value = delta.last;
  if ((family.type === 'histogram' || family.type === 'timer') && !delta.counts) {
    const bounds = family.buckets ?? [];
    const counts = emptyCounts(bounds);
    counts[bucketIndex(bounds, value)]! += 1;
    return { ...delta, counts };
  }
  if (family.type === 'summary' && !delta.sketch) return { ...delta, sketch: addToSketch(emptySketch(), value) };
  return delta;
}

export function deltaPoint(d: Delta, at: number): Point {
  return {
    count: d.count,
    sum: d.sum,
    min: d.min,
    max: d.max,
    last: d.last,
    lastAt: at,
    counts: d.counts ?? null,
    sketch: d.sketch ?? null,
  };
}

/** `b` merged into a copy of `a`; the later `last` wins. */
export function mergePoints(a: Point, b: Point): Point {
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    last: b.lastAt >= a.lastAt ? b.last : a.last,
    lastAt: Math.max(a.lastAt, b.lastAt),
    counts: a.counts && b.counts ? addCounts([...a.counts], b.counts) : (a.counts ?? b.counts),
    sketch: a.sketch && b.sketch ? mergeSketch(structuredClone(a.sketch), b.sketch) : (a.sketch ?? b.sketch),
  };
}

/** Windows of one series from several shards (HTTP series are spread over shards) as one. */
export function mergeWindows(a: SeriesWindow, b: SeriesWindow): SeriesWindow {
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number) => (x === null ? y : y === null ? x : f(x, y));
  const bLater = (b.lastAt ?? -Infinity) >= (a.lastAt ?? -Infinity);
  return {
    family: a.family,
    labels: a.labels,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
    last: bLater ? b.last : a.last,
    lastAt: pick(a.lastAt, b.lastAt, Math.max),
    counts: a.counts && b.counts ? addCounts([...a.counts], b.counts) : (a.counts ?? b.counts),
    sketch: a.sketch && b.sketch ? mergeSketch(structuredClone(a.sketch), b.sketch) : (a.sketch ?? b.sketch),
  };
}
