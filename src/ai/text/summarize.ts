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

// PageRank's damping factor as used in the TextRank paper.
const DAMPING = 0.85;
const MAX_ITERATIONS = 100;
const CONVERGED = 1e-6;

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
  // two one-word sentences do not divide by zero.
  const n = sentences.length;
  const weight: number[][] = bags.map((a, i) =>
    bags.map((b, j) => {
      if (i === j || a.size === 0 || b.size === 0) return 0;
      let shared = 0;
      for (const w of a) if (b.has(w)) shared++;
      return shared / (Math.log(1 + a.size) + Math.log(1 + b.size));
    }),
  );
  const outWeight = weight.map((row) => row.reduce((s, x) => s + x, 0));

  let scores = new Array<number>(n).fill(1);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const next = scores.map((_, i) => {
      let incoming = 0;
      for (let j = 0; j < n; j++) {
        const w = weight[j]?.[i] ?? 0;
        const total = outWeight[j] ?? 0;
        if (w > 0 && total > 0) incoming += (w / total) * (scores[j] ?? 0);
      }
      return 1 - DAMPING + DAMPING * incoming;
    });
    const delta = Math.max(...next.map((s, i) => Math.abs(s - (scores[i] ?? 0))));
    scores = next;
    if (delta < CONVERGED) break;
  }

  return sentences
    .map((s, i) => ({ ...s, score: scores[i] ?? 0, wordCount: words(s.text).length }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}

const withStop = (sentence: string) => (/[.!?…]["'”’)\]]*$/.test(sentence) ? sentence : `${sentence}.`);

/**
 * An extractive summary of a text or markdown document. Without a budget it keeps about a fifth
 * of the sentences, between three and eight. A text already within the budget is returned as it
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
  const re = /[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*/gu;
  let end = 0;
  for (let i = 0; i < n; i++) {
    const m = re.exec(text);
    if (!m) break;
    end = m.index + m[0].length;
  }
  return text.slice(0, end);
}
