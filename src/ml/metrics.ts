/*
 * Held-out metrics, computed from the predictions on the test part. Precision, recall and F1
 * are macro averages (the unweighted mean over classes), with 0 for a class that is never
 * predicted or never present, as scikit-learn's `zero_division=0` does.
 */

const round = (v: number) => Math.round(v * 1e6) / 1e6;

export type ClassificationMetrics = {
  accuracy: number;
  precision_macro: number;
  recall_macro: number;
  f1_macro: number;
  /** matrix[i][j]: rows whose true class is labels[i], predicted labels[j]. */
  confusion_matrix: { labels: (string | number | boolean)[]; matrix: number[][] };
  test_rows: number;
};

export function classificationMetrics(
  actual: readonly number[],
  predicted: readonly number[],
  classes: readonly (string | number | boolean)[],
): ClassificationMetrics {
  const k = classes.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  actual.forEach((a, i) => {
    matrix[a]![predicted[i]!]!++;
  });
  let correct = 0;
  let p = 0;
  let r = 0;
  let f = 0;
  for (let c = 0; c < k; c++) {
    const tp = matrix[c]![c]!;
    correct += tp;
    const predictedC = matrix.reduce((s, row) => s + row[c]!, 0);
    const actualC = matrix[c]!.reduce((s, v) => s + v, 0);
    const precision = predictedC ? tp / predictedC : 0;
    const recall = actualC ? tp / actualC : 0;
    p += precision;
    r += recall;
    f += precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return {
    accuracy: round(correct / actual.length),
    precision_macro: round(p / k),
    recall_macro: round(r / k),
    f1_macro: round(f / k),
    confusion_matrix: { labels: [...classes], matrix },
    test_rows: actual.length,
  };
}

export type RegressionMetrics = { rmse: number; mae: number; r2: number | null; test_rows: number };

/** R² is null when the held-out targets are all equal (it is undefined there). */
export function regressionMetrics(actual: readonly number[], predicted: readonly number[]): RegressionMetrics {
  const n = actual.length;
  const mean = actual.reduce((a, b) => a + b, 0) / n;
  let se = 0;
  let ae = 0;
  let tot = 0;
  actual.forEach((a, i) => {
    se += (a - predicted[i]!) ** 2;
    ae += Math.abs(a - predicted[i]!);
    tot += (a - mean) ** 2;
  });
  return { rmse: round(Math.sqrt(se / n)), mae: round(ae / n), r2: tot > 0 ? round(1 - se / tot) : null, test_rows: n };
}

/** Sum of squared Euclidean distances from each point to its assigned centroid. */
export function inertia(points: readonly number[][], assigned: readonly number[], centroids: readonly number[][]): number {
  let sum = 0;
  points.forEach((p, i) => {
    const c = centroids[assigned[i]!]!;
    sum += p.reduce((s, v, j) => s + (v - c[j]!) ** 2, 0);
  });
  return round(sum);
}
