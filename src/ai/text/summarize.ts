/**
 * Extractive summarisation with TextRank (Mihalcea & Tarau, "TextRank: Bringing Order into
 * Texts", 2004): sentences are nodes, edges are weighted by content-word overlap, and PageRank
 * over that graph ranks the sentences most supported by the rest of the text. The summary is the
 * best-ranked sentences that fit the budget, put back in their original order.
 */
import { detectLanguage } from './language';
import { stopwordsFor } from './stopwords';
import { countWords, documentSentences, normalizedWords, type Sentence, words } from './tokenize';

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
    .map((s, i) => ({ ...s, score: scores[i] ?? 0, wordCount: countWords(s.text) }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}

const withStop = (sentence: string) => (/[.!?…]["'”’)\]]*$/.test(sentence) ? sentence : `${sentence}.`);

/**
 * An extractive summary of a text or markdown document. Without a sentence budget it keeps about
 * a fifth of the sentences, between three and eight.
 *
 * `maxWords` is a hard limit, counted with `countWords` (the count every word budget uses): the
 * summary is never longer. It is made of whole sentences, the best-ranked that fit, put back in
 * document order, each ending with its full stop. A text already within both budgets is returned
 * as it is. When even the best sentence is longer than `maxWords`, that sentence alone is cut: at
 * the last clause boundary (comma, semicolon, colon, dash, bracket) that keeps at least half the
 * budget, else after the last word that fits, then without trailing punctuation or function
 * words ("of", "the"), and it always ends with "…" — the ellipsis, never a full stop, is how a
 * summary says that its only sentence is incomplete. The ellipsis is attached to the last word,
 * so it adds no word.
 *
 * @example summarize(article, { maxWords: 60 }) // the best sentences that fit in 60 words, in order
 */
export function summarize(text: string, options: SummaryOptions = {}): string {
  const ranked = rankSentences(text);
  if (ranked.length === 0) return '';
  const maxWords = Math.max(1, Math.floor(options.maxWords ?? Number.POSITIVE_INFINITY));
  const maxSentences = Math.max(1, options.maxSentences ?? Math.min(8, Math.max(3, Math.ceil(ranked.length / 5))));
  const trimmed = text.trim();
  if (ranked.length <= maxSentences && countWords(trimmed) <= maxWords) return trimmed;

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
    return best ? shorten(best.text, maxWords, stopwordsFor(detectLanguage(text).code)) : '';
  }
  return chosen
    .sort((a, b) => a.index - b.index)
    .map((s) => withStop(s.text))
    .join(' ');
}

// Punctuation at the end of a token that closes a clause, and tokens that are a dash on their own.
const CLAUSE_END = /[,;:)\]—–]["'”’]*$/;
const DASH = /^[—–-]+$/;

/** One sentence cut to at most `maxWords` words at a clause or word boundary, ending with "…". */
function shorten(sentence: string, maxWords: number, stop: ReadonlySet<string>): string {
  const tokens = [...sentence.matchAll(/\S+/g)].map((m) => ({ end: m.index + m[0].length, text: m[0] }));
  // The longest prefix of whole tokens within the budget, and the longest that ends a clause.
  let fit = 0;
  let clause = 0;
  for (let k = 1; k <= tokens.length; k++) {
    if (countWords(sentence.slice(0, tokens[k - 1]!.end)) > maxWords) break;
    fit = k;
    if (CLAUSE_END.test(tokens[k - 1]!.text) || DASH.test(tokens[k]?.text ?? '')) clause = k;
  }
  const keep = clause >= Math.max(2, Math.ceil(maxWords / 2)) ? clause : fit;
  // A first token longer than the budget on its own (a URL, say): its first words, spaced.
  const head = keep > 0 ? sentence.slice(0, tokens[keep - 1]!.end) : words(sentence).slice(0, maxWords).join(' ');
  let out = head.replace(/[\s\p{P}\p{S}]+$/u, '');
  for (;;) {
    const last = /(\s+)(\S+)$/.exec(out);
    const bare = last ? normalizedWords(last[2]!) : [];
    if (!last || bare.length !== 1 || !stop.has(bare[0]!)) break;
    out = out.slice(0, last.index).replace(/[\s\p{P}\p{S}]+$/u, '');
  }
  return `${out}…`;
}
