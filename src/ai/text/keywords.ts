/**
 * Keyword extraction with RAKE (Rapid Automatic Keyword Extraction; Rose, Engel, Cramer & Cowley,
 * "Automatic keyword extraction from individual documents", 2010):
 * 1. candidate phrases are the runs of words between stopwords and punctuation;
 * 2. each word scores its degree: the total length of the candidate occurrences that contain it,
 *    which grows both with how often the word occurs and with how long its phrases are;
 * 3. a phrase scores the sum of its words' scores;
 * 4. a phrase that contains a shorter candidate occurring at least as often is dropped: summing
 *    word scores always ranks "solar power competitive" above the "solar power" it extends, and
 *    the one-off extension is not a key phrase of its own.
 * The paper offers three word metrics: deg(w), freq(w) and deg(w)/freq(w). deg/freq ranks every
 * one-off three-word run above the subject a text keeps returning to, which in a paragraph is
 * the wrong way round, so deg(w) is used.
 * Runs longer than `maxPhraseWords` still count towards their words' degrees but are not offered
 * whole: without a part-of-speech tagger a long run is usually a clause glued together by verbs
 * ("solar panels cut energy bills"), not a phrase. What such a run does offer is its first and
 * its last two words (its first and last word when `maxPhraseWords` is 1): in an English clause
 * the subject opens the run and the object closes it, so "solar panels" and "energy bills" are
 * kept and only the verb in between is lost. Such edge phrases rank after every whole run. There is no minimum frequency or score share, so a
 * text with any content word always has at least one keyword (short texts are mostly long runs,
 * and dropping those once left a two-sentence text with none).
 */
import { stopwordsFor } from './stopwords';
import { documentSentences, words } from './tokenize';

export type Keyword = { term: string; score: number };
/** A keyword with what title-making needs: how often it occurs and where first. */
export type RankedPhrase = Keyword & { count: number; first: number; words: string[] };

export type KeywordOptions = { limit?: number; language?: string; maxPhraseWords?: number };

// Punctuation inside a sentence that also ends a candidate phrase.
const PHRASE_BREAK = /[,;:()[\]{}"“”«»—–!?.…/|&+=*]+|\s[-']\s/;

/** Ranks candidate phrases by RAKE score, best first (ties: more occurrences, then earlier). */
export function rankPhrases(text: string, options: KeywordOptions = {}): RankedPhrase[] {
  const stop = stopwordsFor(options.language);
  const maxLen = options.maxPhraseWords ?? 3;
  const display = displayForms(text);
  const runs: string[][] = [];
  for (const sentence of documentSentences(text)) {
    for (const segment of sentence.text.split(PHRASE_BREAK)) {
      let run: string[] = [];
      const close = () => {
        if (run.length > 0) runs.push(run);
        run = [];
      };
      for (const raw of words(segment)) {
        const w = raw.toLowerCase().replace(/’/g, "'");
        if (stop.has(w) || /^\p{N}+$/u.test(w) || [...w].length < 2) close();
        else run.push(w);
      }
      close();
    }
  }

  const degree = new Map<string, number>();
  for (const run of runs) for (const w of run) degree.set(w, (degree.get(w) ?? 0) + run.length);
  const edge = Math.max(1, Math.min(2, maxLen));
  const occurrences = runs.flatMap((run) =>
    run.length <= maxLen ? [{ phrase: run, from: run }] : [run.slice(0, edge), run.slice(-edge)].map((phrase) => ({ phrase, from: run })),
  );

  const phrases = new Map<string, RankedPhrase>();
  // Phrases seen at least once as a whole run. One seen only as the edge of a longer run is a
  // guess at a phrase boundary, so it ranks after every whole run: in a paragraph it only fills
  // the list's tail ("manufacturing solar" must not push "fossil fuels" out), in a text of two
  // long sentences it is all there is. Its score is what it would have been had the run been
  // split there (the run adds the edge's length to its words' degrees, not its own), capped at
  // the lowest whole-run score so that the list stays best first by score.
  const whole = new Set<string>();
  occurrences.forEach(({ phrase, from }, position) => {
    const key = phrase.join(' ');
    if (phrase === from) whole.add(key);
    const seen = phrases.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    const score = phrase.reduce((sum, w) => sum + (degree.get(w) ?? 0) - from.length + phrase.length, 0);
    const term = phrase.map((w) => display.get(w) ?? w).join(' ');
    phrases.set(key, { term, score, count: 1, first: position, words: phrase });
  });
  const all = [...phrases.values()];
  const extendsShorter = (p: RankedPhrase) =>
    all.some((q) => q.words.length < p.words.length && q.count >= p.count && ` ${p.words.join(' ')} `.includes(` ${q.words.join(' ')} `));
  const byRank = (a: RankedPhrase, b: RankedPhrase) => b.score - a.score || b.count - a.count || a.first - b.first;
  const kept = all.filter((p) => !extendsShorter(p));
  const wholeRuns = kept.filter((p) => whole.has(p.words.join(' '))).sort(byRank);
  const floor = wholeRuns[wholeRuns.length - 1]?.score ?? Number.POSITIVE_INFINITY;
  const edges = kept
    .filter((p) => !whole.has(p.words.join(' ')))
    .sort(byRank)
    .map((p) => ({ ...p, score: Math.min(p.score, floor) }));
  return [...wholeRuns, ...edges];
}

/**
 * The top keywords of a text by RAKE score (ten unless `limit` says otherwise).
 *
 * @example extractKeywords('Solar panels convert sunlight. Solar panels need sunlight.')[0] // { term: 'solar panels', ... }
 */
export function extractKeywords(text: string, options: KeywordOptions = {}): Keyword[] {
  return rankPhrases(text, options)
    .slice(0, options.limit ?? 10)
    .map(({ term, score }) => ({ term, score }));
}

/**
 * How each word should be shown: lower case, unless every time it appears away from the start of
 * a sentence it is capitalised (a name such as "Berlin") or it is an acronym ("NASA"). Headings
 * are ignored because title case there says nothing about the word.
 */
function displayForms(text: string): Map<string, string> {
  const forms = new Map<string, { form: string; alwaysCapital: boolean }>();
  for (const sentence of documentSentences(text)) {
    if (sentence.kind === 'heading') continue;
    words(sentence.text).forEach((w, i) => {
      const key = w.toLowerCase().replace(/’/g, "'");
      const acronym = w.length > 1 && w === w.toUpperCase() && /\p{Lu}/u.test(w);
      if (i === 0 && !acronym) return;
      const capital = acronym || /^\p{Lu}/u.test(w);
      const seen = forms.get(key);
      if (!seen) forms.set(key, { form: w, alwaysCapital: capital });
      else if (!capital) seen.alwaysCapital = false;
    });
  }
  const out = new Map<string, string>();
  for (const [key, { form, alwaysCapital }] of forms) if (alwaysCapital) out.set(key, form);
  return out;
}
