import { z } from '@hono/zod-openapi';
import { argmax } from './cart';

/*
 * Prediction for tree models stored before cart.ts existed, in the JSON that ml-cart
 * (`DTClassifier`, `DTRegression`) and ml-random-forest (`RFClassifier`, `RFRegression`) wrote
 * with toJSON(). Those libraries are no longer dependencies; this reads their format and follows
 * their rules exactly: a row goes left when x[splitColumn] < splitValue; a classifier leaf holds
 * its class distribution as a 1-row matrix; a forest tree sees only the columns listed in
 * `indexes[i]`, a classifier forest predicts the mode of the votes (the first class to reach the
 * highest count, as ml-array-mode does) and a regression forest the mean (or median) of its trees.
 */

type LegacyNode = { splitColumn?: number; splitValue?: number; left?: LegacyNode; right?: LegacyNode; distribution?: number | number[][] };

const Node: z.ZodType<LegacyNode> = z.lazy(() =>
  z.object({
    splitColumn: z.number().int().optional(),
    splitValue: z.number().optional(),
    left: Node.optional(),
    right: Node.optional(),
    distribution: z.union([z.number(), z.array(z.array(z.number()))]).optional(),
  }),
);
const Tree = z.object({ name: z.enum(['DTClassifier', 'DTRegression']), root: Node });
const Forest = z.object({
  name: z.enum(['RFClassifier', 'RFRegression']),
  selectionMethod: z.enum(['mean', 'median']).optional(),
  baseModel: z.object({ indexes: z.array(z.array(z.number().int())), estimators: z.array(Tree).min(1) }),
});

function leaf(node: LegacyNode, row: readonly number[]): number | number[] {
  let n = node;
  // ml-cart's setNodeParameters: a node with a distribution is a leaf, any other has two children.
  while (n.distribution === undefined && n.left && n.right) n = row[n.splitColumn!]! < n.splitValue! ? n.left : n.right;
  const d = n.distribution ?? 0;
  return typeof d === 'number' ? d : (d[0] ?? []);
}

const asClass = (value: number | number[]) => (typeof value === 'number' ? value : argmax(value));

function mode(values: readonly number[]): number {
  const counts = new Map<number, number>();
  let best = values[0]!;
  let bestCount = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) [best, bestCount] = [v, c];
  }
  return best;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const normalise = (row: number[]) => {
  const sum = row.reduce((a, b) => a + b, 0);
  return sum > 0 ? row.map((v) => v / sum) : row.map(() => 1 / row.length);
};

/** A predictor for ml-cart / ml-random-forest JSON; throws if the JSON is neither. */
export function legacyTreesPredictor(json: unknown, classes: number) {
  const tree = Tree.safeParse(json);
  if (tree.success) {
    const root = tree.data.root;
    if (tree.data.name === 'DTRegression') return { predict: (x: number[][]) => x.map((row) => leaf(root, row) as number) };
    const probabilities = (x: number[][]) =>
      x.map((row) => {
        const d = leaf(root, row);
        return normalise(Array.from({ length: classes }, (_, c) => (typeof d === 'number' ? 0 : (d[c] ?? 0))));
      });
    return { predict: (x: number[][]) => x.map((row) => asClass(leaf(root, row))), probabilities };
  }
  const forest = Forest.parse(json);
  const { indexes, estimators } = forest.baseModel;
  const votes = (row: readonly number[]) =>
    estimators.map((e, i) =>
      leaf(
        e.root,
        indexes[i]!.map((c) => row[c]!),
      ),
    );
  if (forest.name === 'RFRegression') {
    const pick = forest.selectionMethod === 'median' ? median : (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    return { predict: (x: number[][]) => x.map((row) => pick(votes(row) as number[])) };
  }
  return {
    predict: (x: number[][]) => x.map((row) => mode(votes(row).map(asClass))),
    // The share of trees voting for each class, as the service computed it before.
    probabilities: (x: number[][]) =>
      x.map((row) => {
        const v = votes(row).map(asClass);
        return normalise(Array.from({ length: classes }, (_, c) => v.filter((p) => p === c).length));
      }),
  };
}
