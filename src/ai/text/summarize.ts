/**
 * Extractive summarisation with TextRank (Mihalcea & Tarau, "TextRank: Bringing Order into
 * Texts", 2004): sentences are nodes, edges are weighted by content-word overlap, and PageRank
 * over that graph ranks the sentences most supported by the rest of the text. The summary is the
 * best-ranked sentences that fit the budget, put back in their original order.
 */
import { detectLanguage } from './language';
import { stopwordsFor } from './stopwords';
import { documentSentences, normalizedWords, type Sentence, words } from './tokenize';

export type SummaryOptions = { maxWords?: number | undefined; maxSentences?: number | undefined };
export type RankedSentence = Sentence & { score: number; wordCount: number };

// Damping factor and convergence threshold as used in the TextRank paper; the iteration cap only
// guards against a graph that never settles.
const DAMPING = 0.85;
const CONVERGED = 1e-4;
const MAX_ITERATIONS = 100;

/**
 * Ranks the prose sentences of a text (headings are left out unless there is nothing else),
 * best first; equal scores keep document order, so a text whose sentences share no words falls
 * back to its opening sentences.
 */
export function rankSentences(text: string): RankedSentence[] {
  const all = documentSentences(text);
  const prose = all.filter((s) => s.kind !== 'heading');
  const sentences = prose.length ? prose : all;
  if (sentences.length === 0) return [];
  const stop = stopwordsFor(detectLanguage(text).code);
  const bags = sentences.map((s) => new Set(normalizedWords(s.text).filter((w) => !stop.has(w))));

  // Similarity from the paper: shared words over log lengths. 1 is added inside each log so that
  // two one-word sentences do not divide by zero. The graph is undirected, so each pair is
  // computed once; edges are kept as adjacency lists because most pairs share nothing.
  const n = sentences.length;
  const edges: { to: number; weight: number }[][] = sentences.map(() => []);
  for (let i = 0; i < n; i++) {
    const a = bags[i]!;
    if (a.size === 0) continue;
    for (let j = i + 1; j < n; j++) {
      const b = bags[j]!;
      if (b.size === 0) continue;
      let shared = 0;
      for (const w of a) if (b.has(w)) shared++;
      if (shared === 0) continue;
      const weight = shared / (Math.log(1 + a.size) + Math.log(1 + b.size));
      edges[i]!.push({ to: j, weight });
      edges[j]!.push({ to: i, weight });
    }
  }
  const outWeight = edges.map((list) => list.reduce((sum, e) => sum + e.weight, 0));

  let scores = new Array<number>(n).fill(1);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const next = edges.map((list) => {
      let incoming = 0;
      for (const { to: j, weight } of list) incoming += (weight / outWeight[j]!) * scores[j]!;
      return 1 - DAMPING + DAMPING * incoming;
    });
    let delta = 0;
    for (let i = 0; i < n; i++) delta = Math.max(delta, Math.abs(next[i]! - scores[i]!));
    scores = next;
    if (delta < CONVERGED) break;
  }

  return sentences
    .map((s, i) => ({ ...s, score: scores[i] ?? 0, wordCount: words(s.text).length }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}

const withStop = (sentence: string) => (/[.!?…]["'”’)\]]*$/.test(sentence) ? sentence : `${sentence}.`);

/**
 * An extractive summary of a text or markdown document. Without a sentence budget it keeps about
 * a fifth of the sentences, between three and eight. A text already within the budget is returned as it
 * is; when even the best sentence is longer than `maxWords`, its first `maxWords` words are
 * returned with an ellipsis.
 *
 * @example summarize(article, { maxWords: 60 }) // the best sentences that fit in 60 words, in order
 */
export function summarize(text: string, options: SummaryOptions = {}): string {
  const ranked = rankSentences(text);
  if (ranked.length === 0) return '';
  const maxWords = options.maxWords ?? Number.POSITIVE_INFINITY;
  const maxSentences = Math.max(1, options.maxSentences ?? Math.min(8, Math.max(3, Math.ceil(ranked.length / 5))));
  const totalWords = ranked.reduce((sum, s) => sum + s.wordCount, 0);
  if (ranked.length <= maxSentences && totalWords <= maxWords) return text.trim();

  const chosen: RankedSentence[] = [];
  let used = 0;
  for (const sentence of ranked) {
    if (chosen.length >= maxSentences) break;
    if (sentence.wordCount === 0 || used + sentence.wordCount > maxWords) continue;
    chosen.push(sentence);
    used += sentence.wordCount;
  }
  if (chosen.length === 0) {
    const best = ranked.find((s) => s.wordCount > 0);
    if (!best) return '';
    return `${firstWords(best.text, Math.max(1, Math.floor(maxWords))).replace(/[\s,;:.!?—–-]+$/, '')}…`;
  }
  return chosen
    .sort((a, b) => a.index - b.index)
    .map((s) => withStop(s.text))
    .join(' ');
}

/** The text up to and including its n-th word, keeping the original spacing and punctuation. */
function firstWords(text: string, n: number): string {
  const re = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
  let end = 0;
  for (let i = 0; i < n; i++) {
    const m = re.exec(text);
    if (!m) break;
    end = m.index + m[0].length;
  }
  return text.slice(0, end);
}
