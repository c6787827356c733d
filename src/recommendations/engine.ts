/**
 * Training and scoring for every algorithm, on plain data: the routes read D1 and call these,
 * and evaluation calls them on a held-out split. Nothing here touches a binding.
 */
import { trainContent, scoreContent, type ContentArtefact } from './algorithms/content';
import { buildMatrix, type InteractionRow } from './algorithms/matrix';
import { scoreMf, trainMf, type MfArtefact } from './algorithms/mf';
import { scoreItemCf, scoreUserCf, trainItemCf, trainUserCf, type ItemCfArtefact, type UserCfArtefact } from './algorithms/neighbours';
import { best, type ItemDoc, type Scored, type UserContext } from './algorithms/scored';
import { HYBRID_COMPONENTS, PARAMETER_SCHEMAS, type Algorithm, type HybridComponent } from './weights';

/** Popularity needs no training: it ranks by the live totals in `UserContext.popularity`. */
export type PopularityArtefact = { kind: 'popularity' };
export type HybridArtefact = {
  kind: 'hybrid';
  weights: Partial<Record<HybridComponent, number>>;
  components: Partial<Record<HybridComponent, Artefact>>;
};
export type Artefact = PopularityArtefact | ItemCfArtefact | UserCfArtefact | MfArtefact | ContentArtefact | HybridArtefact;

export type TrainData = { rows: readonly InteractionRow[]; docs: Map<string, ItemDoc> };

/** Whether an algorithm reads item documents (so callers load them only when needed). */
export function needsDocs(algorithm: Algorithm, params: Record<string, unknown>): boolean {
  if (algorithm === 'content_based') return true;
  if (algorithm !== 'hybrid') return false;
  return ((PARAMETER_SCHEMAS.hybrid.parse(params).weights.content_based ?? 0) as number) > 0;
}

export function train(algorithm: Algorithm, params: Record<string, unknown>, data: TrainData): Artefact {
  switch (algorithm) {
    case 'popularity':
      return { kind: 'popularity' };
    case 'item_based_cf':
      return trainItemCf(buildMatrix(data.rows), PARAMETER_SCHEMAS.item_based_cf.parse(params));
    case 'user_based_cf':
      return trainUserCf(buildMatrix(data.rows));
    case 'matrix_factorization': {
      const p = PARAMETER_SCHEMAS.matrix_factorization.parse(params);
      return trainMf(buildMatrix(data.rows, p.feedback), p);
    }
    case 'content_based':
      return trainContent(data.docs, PARAMETER_SCHEMAS.content_based.parse(params).max_terms);
    case 'hybrid': {
      const { weights } = PARAMETER_SCHEMAS.hybrid.parse(params);
      const components: HybridArtefact['components'] = {};
      for (const c of HYBRID_COMPONENTS) if ((weights[c] ?? 0) > 0) components[c] = train(c, {}, data);
      return { kind: 'hybrid', weights, components };
    }
  }
}

function popular(ctx: UserContext): Scored[] {
  return [...ctx.popularity].map(([item, w]) => ({
    item,
    score: w,
    reason: `popular with other users (interaction weight ${Math.round(w * 10) / 10})`,
    source: 'popularity' as const,
  }));
}

function score(a: Artefact, params: Record<string, unknown>, ctx: UserContext): Scored[] {
  switch (a.kind) {
    case 'popularity':
      return popular(ctx);
    case 'item_based_cf':
      return scoreItemCf(a, ctx);
    case 'user_based_cf':
      return scoreUserCf(a, PARAMETER_SCHEMAS.user_based_cf.parse(params), ctx);
    case 'matrix_factorization':
      return scoreMf(a, ctx);
    case 'content_based':
      return scoreContent(a, ctx);
    case 'hybrid':
      return blend(a, ctx);
  }
}

/**
 * Weighted blend: each component's scores are divided by that component's best score (so scales
 * agree), multiplied by its weight and summed. The reason shown is the one of the component that
 * contributed most to the item.
 */
function blend(a: HybridArtefact, ctx: UserContext): Scored[] {
  const totals = new Map<string, { score: number; top: number; reason: string; source: Scored['source'] }>();
  for (const [name, artefact] of Object.entries(a.components) as Array<[HybridComponent, Artefact]>) {
    const w = a.weights[name] ?? 0;
    const scored = score(artefact, {}, ctx);
    const max = Math.max(0, ...scored.map((s) => s.score));
    if (max <= 0) continue;
    for (const s of scored) {
      const part = (w * s.score) / max;
      const t = totals.get(s.item) ?? { score: 0, top: 0, reason: s.reason, source: s.source };
      t.score += part;
      if (part > t.top) Object.assign(t, { top: part, reason: s.reason, source: s.source });
      totals.set(s.item, t);
    }
  }
  return [...totals].map(([item, t]) => ({ item, score: t.score, reason: t.reason, source: t.source }));
}

/**
 * How many of the most popular items `recommend` can look at for this request, so the caller
 * reads no more. Popularity only fills: the best `n` items that are not excluded, not already
 * chosen (at most `n`, themselves counted among the popular ones when the model is popularity)
 * and not in the profile — never deeper than n + |exclude| + |profile|. A hybrid with a
 * popularity component is the exception: its blend adds every popular item's normalised score.
 */
export function popularityNeeded(a: Artefact, n: number, excluded: number, profiled: number): number {
  if (a.kind === 'hybrid' && a.components.popularity) return Number.POSITIVE_INFINITY;
  return n + excluded + profiled;
}

export type Strategy = 'model' | 'model+popularity' | 'popularity_fallback' | 'content_cold_start';

/**
 * Top-n for one user. When the model can say nothing about the user (a new user, or one whose
 * items the model never saw) the request's own signals are tried through `coldContent`, and
 * whatever is still missing is filled from popularity, each item saying which source chose it.
 */
export function recommend(
  a: Artefact,
  params: Record<string, unknown>,
  ctx: UserContext,
  n: number,
  coldContent?: ContentArtefact,
): { items: Scored[]; strategy: Strategy } {
  let items = best(score(a, params, ctx), n, ctx.exclude);
  let strategy: Strategy = 'model';
  if (items.length === 0 && coldContent) {
    items = best(scoreContent(coldContent, ctx), n, ctx.exclude);
    if (items.length > 0) strategy = 'content_cold_start';
  }
  if (items.length < n) {
    const chosen = new Set(items.map((s) => s.item));
    const fill = best(popular(ctx), n - items.length, new Set([...ctx.exclude, ...chosen, ...ctx.profile.keys()]));
    if (fill.length > 0) strategy = items.length === 0 ? 'popularity_fallback' : strategy === 'model' ? 'model+popularity' : strategy;
    items = [...items, ...fill];
  }
  return { items, strategy };
}
