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
 * as keywords: without a part-of-speech tagger a long run is usually a clause glued together by
 * verbs ("makes solar power competitive"), not a phrase.
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
  const occurrences = runs.filter((run) => run.length <= maxLen);

  const phrases = new Map<string, RankedPhrase>();
  occurrences.forEach((phrase, position) => {
    const key = phrase.join(' ');
    const seen = phrases.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    const score = phrase.reduce((sum, w) => sum + (degree.get(w) ?? 0), 0);
    const term = phrase.map((w) => display.get(w) ?? w).join(' ');
    phrases.set(key, { term, score, count: 1, first: position, words: phrase });
  });
  const all = [...phrases.values()];
  const extendsShorter = (p: RankedPhrase) =>
    all.some((q) => q.words.length < p.words.length && q.count >= p.count && ` ${p.words.join(' ')} `.includes(` ${q.words.join(' ')} `));
  return all.filter((p) => !extendsShorter(p)).sort((a, b) => b.score - a.score || b.count - a.count || a.first - b.first);
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
