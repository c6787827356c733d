import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/lib/random';
import { rootSplit, treeData, type FlatTree, type WorkBudget } from '../../src/ml/cart';
import { estimateCpuMs, treeUnits } from '../../src/ml/cost';
import { fitTrees, treesPredictor, type TreesOptions } from '../../src/ml/forest';
import { legacyTreesPredictor } from '../../src/ml/legacy-trees';
import legacy from './fixtures/ml-legacy-trees.json';

/** Rows of `p` features rounded to one decimal, so columns hold repeated values. */
function randomData(n: number, p: number, seed: number) {
  const r = seededRandom(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: p }, () => Math.round(r() * 20) / 10));
  const yClass = x.map((row) => (row[0]! + row[1]! > 2 ? 1 : 0) + (r() < 0.3 ? 1 : 0));
  const yValue = x.map((row) => 3 * row[2]! - row[1]! + r());
  return { x, yClass, yValue, r };
}

/** Weighted impurity decrease per unit weight of a split, computed from scratch. */
function decreaseOf(x: number[][], y: number[], w: number[], classes: number, feature: number, threshold: number): number {
  const impurity = (rows: number[]) => {
    const W = rows.reduce((s, i) => s + w[i]!, 0);
    if (W === 0) return 0;
    if (classes) {
      const c = new Array<number>(classes).fill(0);
      for (const i of rows) c[y[i]!]! += w[i]!;
      return W * (1 - c.reduce((s, v) => s + (v / W) ** 2, 0));
    }
    const mean = rows.reduce((s, i) => s + w[i]! * y[i]!, 0) / W;
    return rows.reduce((s, i) => s + w[i]! * (y[i]! - mean) ** 2, 0);
  };
  const all = x.map((_, i) => i).filter((i) => w[i]! > 0);
  const left = all.filter((i) => x[i]![feature]! <= threshold);
  const right = all.filter((i) => x[i]![feature]! > threshold);
  const W = all.reduce((s, i) => s + w[i]!, 0);
  return (impurity(all) - impurity(left) - impurity(right)) / W;
}

/** The best decrease over every feature and every threshold between distinct in-bag values. */
function bruteForceBest(x: number[][], y: number[], w: number[], classes: number): number {
  let best = 0;
  for (let f = 0; f < x[0]!.length; f++) {
    const values = [...new Set(x.filter((_, i) => w[i]! > 0).map((row) => row[f]!))].sort((a, b) => a - b);
    for (let k = 0; k + 1 < values.length; k++) best = Math.max(best, decreaseOf(x, y, w, classes, f, (values[k]! + values[k + 1]!) / 2));
  }
  return best;
}

const depthOf = (t: FlatTree, i = 0): number => (t.f[i]! < 0 ? 0 : 1 + Math.max(depthOf(t, i + 1), depthOf(t, t.r[i]!)));
const unlimited = (): WorkBudget => ({ left: Infinity });
const opts = (over: Partial<TreesOptions> = {}): TreesOptions => ({
  trees: 1,
  bootstrap: false,
  maxFeatures: 1,
  maxDepth: Infinity,
  minSamplesSplit: 3,
  seed: 1,
  budget: unlimited(),
  ...over,
});

describe('split search', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('finds the same best impurity decrease as a brute-force search (seed %i)', (seed) => {
    const { x, yClass, yValue, r } = randomData(40, 4, seed);
    // Odd seeds: every row once; even seeds: bootstrap-like counts, some rows out of the bag.
    const w = x.map(() => (seed % 2 ? 1 : Math.floor(r() * 3)));
    for (const [y, classes] of [
      [yClass, 3],
      [yValue, 0],
    ] as const) {
      const d = treeData(x, y, classes);
      const split = rootSplit(d, [0, 1, 2, 3], Int32Array.from(w))!;
      const best = bruteForceBest(x, y, w, classes);
      expect(best).toBeGreaterThan(0);
      expect(split.decrease).toBeCloseTo(best, 9);
      // The split it chose really achieves that decrease, at a threshold between two values.
      expect(decreaseOf(x, y, w, classes, split.feature, split.threshold)).toBeCloseTo(best, 9);
      expect(x.some((row) => row[split.feature] === split.threshold)).toBe(false);
    }
  });

  it('does not split a pure node or a constant target, and never splits between equal values', () => {
    expect(rootSplit(treeData([[1], [2], [3]], [2, 2, 2], 0), [0])).toBeNull();
    expect(rootSplit(treeData([[1], [2], [3]], [1, 1, 1], 3), [0])).toBeNull();
    expect(rootSplit(treeData([[5], [5], [5], [5]], [0, 1, 0, 1], 2), [0])).toBeNull();
    // Targets far from zero: the decrease survives (the sweep works on centred targets).
    const s = rootSplit(treeData([[1], [2], [3], [4]], [1e9, 1e9, 1e9 + 1, 1e9 + 1], 0), [0])!;
    expect(s).toMatchObject({ feature: 0, threshold: 2.5 });
    expect(s.decrease).toBeCloseTo(0.25, 6);
  });
});

describe('trees and forests', () => {
  const { x, yClass, yValue } = randomData(300, 5, 11);

  it('honours max_depth and min_samples_split', () => {
    const d = treeData(x, yClass, 3);
    for (const maxDepth of [1, 2, 4]) expect(depthOf(fitTrees(d, opts({ maxDepth })).trees[0]!)).toBe(maxDepth);
    const deep = fitTrees(d, opts()).trees[0]!;
    expect(depthOf(deep)).toBeGreaterThan(4);

    // Count the training rows reaching each node: every split node had at least min_samples_split.
    const tree = fitTrees(d, opts({ minSamplesSplit: 40 })).trees[0]!;
    const reach = new Array<number>(tree.f.length).fill(0);
    for (const row of x) {
      let i = 0;
      reach[0]!++;
      while (tree.f[i]! >= 0) {
        i = row[tree.f[i]!]! <= tree.t[i]! ? i + 1 : tree.r[i]!;
        reach[i]!++;
      }
    }
    tree.f.forEach((f, i) => {
      if (f >= 0) expect(reach[i]).toBeGreaterThanOrEqual(40);
    });
    // A leaf's stored class counts are exactly the rows that reach it.
    tree.f.forEach((f, i) => {
      if (f < 0) expect(tree.v.slice(tree.t[i]!, tree.t[i]! + 3).reduce((a, b) => a + b, 0)).toBe(reach[i]);
    });
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const d = treeData(x, yClass, 3);
    const forest = (seed: number) => JSON.stringify(fitTrees(d, opts({ trees: 5, bootstrap: true, maxFeatures: 0.6, seed })));
    expect(forest(7)).toBe(forest(7));
    expect(forest(7)).not.toBe(forest(8));
  });

  it('lets each tree of a forest split only on its max_features share of the features', () => {
    const m = fitTrees(treeData(x, yClass, 3), opts({ trees: 10, bootstrap: true, maxFeatures: 0.4, seed: 3 }));
    const used = m.trees.map((t) => new Set(t.f.filter((f) => f >= 0)));
    for (const s of used) expect(s.size).toBeLessThanOrEqual(2);
    expect(new Set(used.flatMap((s) => [...s])).size).toBeGreaterThan(2);
  });

  it('single-tree probabilities are leaf class shares; forest probabilities are vote shares', () => {
    const d = treeData(x, yClass, 3);
    const tree = treesPredictor(fitTrees(d, opts({ maxDepth: 2 })));
    const forest = treesPredictor(fitTrees(d, opts({ trees: 7, bootstrap: true, seed: 2 })));
    for (const p of [...tree.probabilities!(x.slice(0, 20)), ...forest.probabilities!(x.slice(0, 20))])
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    for (const p of forest.probabilities!(x.slice(0, 20)))
      for (const v of p) expect(Math.abs(v * 7 - Math.round(v * 7))).toBeLessThan(1e-9);
    // A fully grown tree reproduces its training labels wherever the features tell rows apart.
    const full = treesPredictor(fitTrees(d, opts({ minSamplesSplit: 1 })));
    const distinct = new Map<string, Set<number>>();
    x.forEach((row, i) => {
      distinct.set(String(row), (distinct.get(String(row)) ?? new Set()).add(yClass[i]!));
    });
    const predicted = full.predict(x);
    x.forEach((row, i) => {
      if (distinct.get(String(row))!.size === 1) expect(predicted[i]).toBe(yClass[i]);
    });
  });

  it('regression trees predict leaf means and learn a step exactly', () => {
    const steps = Array.from({ length: 50 }, (_, i) => [i % 10, i % 3]);
    const y = steps.map(([a]) => (a! < 5 ? 1 : 3));
    const model = fitTrees(treeData(steps, y, 0), opts());
    expect(model.trees[0]!.f).toEqual([0, -1, -1]);
    expect(model.trees[0]!.t[0]).toBe(4.5);
    expect(
      treesPredictor(model).predict([
        [0, 0],
        [4, 1],
        [5, 2],
        [9, 0],
      ]),
    ).toEqual([1, 1, 3, 3]);
    const d = treeData(x, yValue, 0);
    const forest = treesPredictor(fitTrees(d, opts({ trees: 20, bootstrap: true, maxDepth: 6 })));
    const pred = forest.predict(x);
    const mean = yValue.reduce((a, b) => a + b, 0) / yValue.length;
    const r2 = 1 - pred.reduce((s, p, i) => s + (p - yValue[i]!) ** 2, 0) / yValue.reduce((s, v) => s + (v - mean) ** 2, 0);
    expect(r2).toBeGreaterThan(0.9);
  });

  it('stops with a clear error when the work budget runs out', () => {
    expect(() => fitTrees(treeData(x, yClass, 3), opts({ trees: 50, bootstrap: true, budget: { left: 10_000 } }))).toThrow(/CPU budget/);
  });
});

describe('cost estimate', () => {
  it('is at least the work a fit really does, on structured data and on noise', () => {
    const r = seededRandom(5);
    const noise = Array.from({ length: 2000 }, () => Array.from({ length: 6 }, () => r()));
    for (const [y, classes] of [
      [noise.map((row) => (row[0]! > 0.5 ? 1 : 0)), 2],
      [noise.map(() => Math.floor(r() * 3)), 3],
      [noise.map(() => r()), 0],
    ] as const) {
      for (const maxDepth of [5, Infinity]) {
        const budget = { left: 1e12 };
        fitTrees(treeData(noise, y, classes), opts({ trees: 5, bootstrap: true, maxDepth, budget }));
        expect(
          treeUnits({ trees: 5, bootstrap: true, maxFeatures: 1, maxDepth }, { rows: 2000, features: 6, classes }),
        ).toBeGreaterThanOrEqual(1e12 - budget.left);
      }
    }
  });

  it('grows with rows, trees, depth and features; only trees and logistic regression are estimated', () => {
    const spec = (algorithm: 'random_forest' | 'knn', parameters: Record<string, unknown>) => ({
      modelType: 'classification' as const,
      algorithm,
      parameters,
      targetColumn: 'y',
      testSize: 0.2,
      randomState: 1,
    });
    const at = (parameters: Record<string, unknown>, rows = 1000, features = 10) =>
      estimateCpuMs(spec('random_forest', parameters), { rows, features, classes: 3 })!;
    expect(at({ n_estimators: 100 })).toBeGreaterThan(at({ n_estimators: 50 }));
    expect(at({}, 2000)).toBeGreaterThan(at({}, 1000));
    expect(at({ max_depth: 20 })).toBeGreaterThan(at({ max_depth: 5 }));
    expect(at({}, 1000, 20)).toBeGreaterThan(at({}, 1000, 10));
    expect(at({ max_features: 0.5 }, 1000, 20)).toBeLessThan(at({}, 1000, 20));
    expect(estimateCpuMs(spec('knn', {}), { rows: 1000, features: 10, classes: 3 })).toBeNull();
  });
});

describe('models stored by ml-cart / ml-random-forest', () => {
  it.each(['dtc', 'dtr', 'rfc', 'rfr'] as const)('%s still predicts what the library predicted', (name) => {
    const { json, predict } = legacy[name];
    const predictor = legacyTreesPredictor(json, 3);
    const got = predictor.predict(legacy.probe);
    got.forEach((v, i) => {
      expect(v).toBeCloseTo(predict[i]!, 9);
    });
    if (name === 'rfc') {
      const votes = legacy.rfc.votes;
      predictor.probabilities!(legacy.probe).forEach((p, i) => {
        for (const c of [0, 1, 2]) expect(p[c]).toBeCloseTo(votes[i]!.filter((v) => v === c).length / 3, 9);
      });
    }
  });
});
