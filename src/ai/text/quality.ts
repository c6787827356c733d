/**
 * A writing-quality score from five measurable factors. Each factor has a raw `value` taken from
 * the text and a 0..1 `score`; the overall score is their weighted mean × 100. A factor that
 * cannot be measured (sentence variety of a one-sentence text, readability of a text without
 * words) has value null and is left out of the mean rather than given an invented score.
 *
 * The thresholds are design choices, stated where they are defined; none is a statistic.
 */
import { readability } from './readability';
import { documentSentences, normalizedWords } from './tokenize';

export type QualityFactor = { value: number | null; score: number; weight: number };
export type QualityResult = {
  score: number;
  factors: {
    /** Word count; full marks from ADEQUATE_WORDS on. */
    length: QualityFactor;
    /** Flesch Reading Ease; full marks inside Flesch's "fairly difficult" to "fairly easy" bands. */
    readability: QualityFactor;
    /** Moving-average type-token ratio over MATTR_WINDOW words (plain TTR for shorter texts). */
    lexical_diversity: QualityFactor;
    /** Share of sentences that repeat an earlier one word for word. */
    repetition: QualityFactor;
    /** Coefficient of variation of sentence lengths in words. */
    sentence_variety: QualityFactor;
  };
};

// A paragraph of about a hundred words is taken as long enough to judge; shorter texts ramp up.
const ADEQUATE_WORDS = 100;
// Flesch 30–80 spans "difficult" prose for specialists to "fairly easy" prose for a general reader;
// the score falls to 0 over READABILITY_FALLOFF points either side.
const READABLE_BAND = [30, 80] as const;
const READABILITY_FALLOFF = 30;
// MATTR (Covington & McFall, 2010) removes TTR's dependence on text length; 50 words is the
// window length most often used with it. Below DIVERSITY_FLOOR the text reads as repetitive,
// from DIVERSITY_FULL on it gets full marks.
const MATTR_WINDOW = 50;
const DIVERSITY_FLOOR = 0.3;
const DIVERSITY_FULL = 0.6;
// Sentence lengths that vary by 40% of their mean or more read as varied rather than monotone.
const VARIETY_FULL = 0.4;

const WEIGHTS = { length: 0.2, readability: 0.25, lexical_diversity: 0.25, repetition: 0.15, sentence_variety: 0.15 };

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Moving-average type-token ratio: the mean TTR of every window of `window` consecutive words. */
export function mattr(tokens: string[], window = MATTR_WINDOW): number {
  if (tokens.length === 0) return 0;
  if (tokens.length <= window) return new Set(tokens).size / tokens.length;
  const counts = new Map<string, number>();
  for (const t of tokens.slice(0, window)) counts.set(t, (counts.get(t) ?? 0) + 1);
  // Sum of the distinct-word counts of every window; each window's TTR is that count / window.
  let total = counts.size;
  for (let i = window; i < tokens.length; i++) {
    const leaving = tokens[i - window]!;
    const left = (counts.get(leaving) ?? 0) - 1;
    if (left === 0) counts.delete(leaving);
    else counts.set(leaving, left);
    const entering = tokens[i]!;
    counts.set(entering, (counts.get(entering) ?? 0) + 1);
    total += counts.size;
  }
  return total / ((tokens.length - window + 1) * window);
}

/** @example qualityOf(article).score // 0..100 */
export function qualityOf(text: string): QualityResult {
  const sentences = documentSentences(text).filter((s) => s.kind !== 'heading');
  const tokens = normalizedWords(text);
  const lengths = sentences.map((s) => normalizedWords(s.text).length).filter((n) => n > 0);

  const { flesch_reading_ease: ease } = readability(text);
  const readabilityScore =
    ease === null ? 0 : clamp01(1 - Math.max(READABLE_BAND[0] - ease, ease - READABLE_BAND[1], 0) / READABILITY_FALLOFF);

  const diversity = tokens.length ? mattr(tokens) : null;

  const seen = new Set<string>();
  let repeats = 0;
  for (const s of sentences) {
    const key = normalizedWords(s.text).join(' ');
    if (!key) continue;
    if (seen.has(key)) repeats++;
    else seen.add(key);
  }
  const repetition = lengths.length ? repeats / lengths.length : null;

  let variety: number | null = null;
  if (lengths.length >= 2) {
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    const variance = lengths.reduce((a, n) => a + (n - mean) ** 2, 0) / lengths.length;
    variety = Math.sqrt(variance) / mean;
  }

  const factors: QualityResult['factors'] = {
    length: { value: tokens.length, score: clamp01(tokens.length / ADEQUATE_WORDS), weight: WEIGHTS.length },
    readability: { value: ease, score: readabilityScore, weight: WEIGHTS.readability },
    lexical_diversity: {
      value: diversity === null ? null : round3(diversity),
      score: diversity === null ? 0 : clamp01((diversity - DIVERSITY_FLOOR) / (DIVERSITY_FULL - DIVERSITY_FLOOR)),
      weight: WEIGHTS.lexical_diversity,
    },
    repetition: {
      value: repetition === null ? null : round3(repetition),
      score: repetition === null ? 0 : 1 - repetition,
      weight: WEIGHTS.repetition,
    },
    sentence_variety: {
      value: variety === null ? null : round3(variety),
      score: variety === null ? 0 : clamp01(variety / VARIETY_FULL),
      weight: WEIGHTS.sentence_variety,
    },
  };
  for (const f of Object.values(factors)) f.score = round3(f.score);

  // Length is always measurable; the others count only when their value exists.
  const measured = Object.values(factors).filter((f) => f.value !== null);
  const weightSum = measured.reduce((s, f) => s + f.weight, 0);
  const score = weightSum ? Math.round((100 * measured.reduce((s, f) => s + f.weight * f.score, 0)) / weightSum) : 0;
  return { score, factors };
}
