/**
 * Matrix factorisation by alternating least squares, seeded so a retrain on the same data gives
 * the same model.
 *
 * implicit: Hu, Koren & Volinsky (2008) — every cell is a 0/1 preference with confidence
 *   1 + alpha × weight on observed cells; each half-step solves (YᵀY + Yᵀ(Cᵤ−I)Y + λI)xᵤ = YᵀCᵤpᵤ.
 * explicit: only rated cells, solving (Σ yᵢyᵢᵀ + λnᵤI)xᵤ = Σ rᵤᵢyᵢ.
 *
 * Only the item factors are stored: a user's factor is folded in at request time with the same
 * solve from their current interactions, which is what lets new interactions count before a
 * retrain (the item factors only change on retrain).
 */
import { perObject } from '../../lib/memo';
import { seededRandom } from '../../lib/random';
import { positions, round4, type Matrix } from './matrix';
import type { Scored, UserContext } from './scored';

export type MfParams = {
  factors: number;
  iterations: number;
  regularization: number;
  alpha: number;
  feedback: 'implicit' | 'explicit';
  seed: number;
};
export type MfArtefact = { kind: 'matrix_factorization'; items: string[]; factors: number[][]; params: MfParams };

/** Solves A x = b for symmetric positive definite A (Cholesky); A is f×f row-major. */
function solve(A: Float64Array, b: Float64Array, f: number): Float64Array {
  const L = new Float64Array(f * f);
  for (let i = 0; i < f; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * f + j]!;
      for (let k = 0; k < j; k++) s -= L[i * f + k]! * L[j * f + k]!;
      L[i * f + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * f + j]!;
    }
  }
  const y = new Float64Array(f);
  for (let i = 0; i < f; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * f + k]! * y[k]!;
    y[i] = s / L[i * f + i]!;
  }
  const x = new Float64Array(f);
  for (let i = f - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < f; k++) s -= L[k * f + i]! * x[k]!;
    x[i] = s / L[i * f + i]!;
  }
  return x;
}

function gram(Y: Float64Array[], f: number): Float64Array {
  const G = new Float64Array(f * f);
  for (const y of Y) for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) G[a * f + b]! += y[a]! * y[b]!;
  return G;
}

/** One least-squares solve for a row (user or item) given the other side's factors. */
function solveRow(entries: Iterable<[number, number]>, other: Float64Array[], YtY: Float64Array, p: MfParams): Float64Array {
  const f = p.factors;
  const A = p.feedback === 'implicit' ? Float64Array.from(YtY) : new Float64Array(f * f);
  const b = new Float64Array(f);
  let n = 0;
  for (const [j, w] of entries) {
    const y = other[j]!;
    n++;
    const c = p.feedback === 'implicit' ? p.alpha * w : 1;
    const target = p.feedback === 'implicit' ? 1 + c : w;
    for (let a = 0; a < f; a++) {
      b[a]! += target * y[a]!;
      for (let q = 0; q < f; q++) A[a * f + q]! += c * y[a]! * y[q]!;
    }
  }
  const reg = p.feedback === 'implicit' ? p.regularization : p.regularization * Math.max(n, 1);
  for (let a = 0; a < f; a++) A[a * f + a]! += reg + 1e-9;
  return solve(A, b, f);
}

export function trainMf(m: Matrix, p: MfParams): MfArtefact {
  const f = p.factors;
  const random = seededRandom(p.seed);
  const init = () => Float64Array.from({ length: f }, () => (random() - 0.5) * 0.1);
  let X: Float64Array[] = m.users.map(init);
  let Y: Float64Array[] = m.items.map(init);
  const columns: Array<Array<[number, number]>> = m.items.map(() => []);
  m.rows.forEach((row, u) => {
    for (const [i, w] of row) columns[i]!.push([u, w]);
  });
  for (let it = 0; it < p.iterations; it++) {
    const YtY = p.feedback === 'implicit' ? gram(Y, f) : new Float64Array(0);
    X = m.rows.map((row) => solveRow(row, Y, YtY, p));
    const XtX = p.feedback === 'implicit' ? gram(X, f) : new Float64Array(0);
    Y = columns.map((col) => solveRow(col, X, XtX, p));
  }
  return { kind: 'matrix_factorization', items: m.items, factors: Y.map((y) => Array.from(y, round4)), params: p };
}

const REASONED = 500;

/** The item factors as typed arrays, their Gram matrix and norms: per artefact, not per request. */
const prepare = perObject((a: MfArtefact) => {
  const Y = a.factors.map((y) => Float64Array.from(y));
  const YtY = a.params.feedback === 'implicit' ? gram(Y, a.params.factors) : new Float64Array(0);
  return { Y, YtY, norms: Y.map((y) => Math.hypot(...y) || 1) };
});

export function scoreMf(a: MfArtefact, ctx: UserContext): Scored[] {
  const index = positions(a.items);
  const { Y, YtY, norms } = prepare(a);
  const entries: Array<[number, number]> = [];
  for (const [key, w] of ctx.profile) {
    const i = index.get(key);
    if (i !== undefined) entries.push([i, w]);
  }
  if (entries.length === 0) return [];
  const f = a.params.factors;
  const x = solveRow(entries, Y, YtY, a.params);
  const scores = Y.map((y) => {
    let s = 0;
    for (let q = 0; q < f; q++) s += x[q]! * y[q]!;
    return s;
  });
  // Only the best few hundred can reach a response, so only they get a reason computed.
  const ranked = scores.map((_, j) => j).filter((j) => scores[j]! > 0 && !ctx.exclude.has(a.items[j]!));
  ranked.sort((p, q) => scores[q]! - scores[p]!);
  return ranked.slice(0, REASONED).map((j) => {
    // The reason names the interacted item whose latent vector is closest to this one.
    let closest = entries[0]![0];
    let bestCos = -Infinity;
    for (const [i] of entries) {
      let dot = 0;
      for (let q = 0; q < f; q++) dot += Y[i]![q]! * Y[j]![q]!;
      const cos = dot / (norms[i]! * norms[j]!);
      if (cos > bestCos) [bestCos, closest] = [cos, i];
    }
    return {
      item: a.items[j]!,
      score: scores[j]!,
      reason: `matches your taste profile; users who liked ${a.items[closest]} also liked ${a.items[j]}`,
      source: 'matrix_factorization' as const,
    };
  });
}
