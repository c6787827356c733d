/*
 * Seeded train/test split. The same rows, test_size and random_state always give the same
 * split (mulberry32 is a small, well-known 32-bit generator; it is not cryptographic and needs
 * not be), so a version's metrics can be reproduced outside the service.
 */
import { seededRandom } from '../lib/random';

/** Fisher–Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export type Split = { train: number[]; test: number[] };

/**
 * Splits row indices 0..n-1. With `groups` (class label per row) the split is stratified: each
 * class gives round(count × testSize) rows to the test part, so rare classes are not lost from
 * either side by chance. Both parts are returned in ascending row order.
 */
export function trainTestSplit(n: number, testSize: number, seed: number, groups?: readonly number[]): Split {
  const random = seededRandom(seed);
  const test: number[] = [];
  if (groups) {
    const byGroup = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const g = groups[i]!;
      const list = byGroup.get(g);
      if (list) list.push(i);
      else byGroup.set(g, [i]);
    }
    for (const g of [...byGroup.keys()].sort((a, b) => a - b)) {
      const rows = shuffled(byGroup.get(g)!, random);
      test.push(...rows.slice(0, Math.round(rows.length * testSize)));
    }
  } else {
    const rows = shuffled(
      Array.from({ length: n }, (_, i) => i),
      random,
    );
    test.push(...rows.slice(0, Math.round(n * testSize)));
  }
  const inTest = new Set(test);
  const train = Array.from({ length: n }, (_, i) => i).filter((i) => !inTest.has(i));
  return { train, test: test.sort((a, b) => a - b) };
}
