/**
 * Flesch Reading Ease and Flesch–Kincaid Grade Level. Both formulas were fitted to English, so
 * scores for other languages are computed the same way but mean little.
 */
import { documentSentences, words } from './tokenize';

export type ReadabilityResult = {
  /** 206.835 − 1.015·(words/sentences) − 84.6·(syllables/words); null when there are no words. */
  flesch_reading_ease: number | null;
  /** 0.39·(words/sentences) + 11.8·(syllables/words) − 15.59; null when there are no words. */
  flesch_kincaid_grade: number | null;
  words: number;
  sentences: number;
  syllables: number;
};

/**
 * Estimates the syllables of an English word by counting vowel groups, the usual heuristic
 * behind automated Flesch scores:
 * - a, e, i, o, u, y runs count one each ("beau-ti-ful" → eau, i, u → 3);
 * - a final silent "e" is dropped ("make" → 1) except in consonant + "le" ("ta-ble" → 2);
 * - final "-es"/"-ed" are silent ("boxes" and "wanted" keep theirs: after s/x/z/ch/sh and t/d);
 * - words of three letters or fewer, numbers, and anything else count as at least one.
 * Irregular words ("area", "naive") are undercounted; over a text the error mostly averages out.
 */
export function countSyllables(word: string): number {
  let w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (w.length <= 3) return 1;
  if (/[^aeiouy]le$/.test(w)) {
    w = w.slice(0, -2);
    return Math.max(1, vowelGroups(w)) + 1;
  }
  if (/[^aeiouy]es$/.test(w) && !/(s|x|z|ch|sh|c|g)es$/.test(w)) w = w.slice(0, -2);
  else if (/[^aeiouy]ed$/.test(w) && !/[td]ed$/.test(w)) w = w.slice(0, -2);
  else if (/[^aeiouy]e$/.test(w)) w = w.slice(0, -1);
  return Math.max(1, vowelGroups(w));
}

const vowelGroups = (w: string) => (w.match(/[aeiouy]+/g) ?? []).length;

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Readability of a text or markdown document. Headings are left out of the sentence count (they
 * are labels, not sentences) unless the document has nothing else; list items count as sentences.
 *
 * @example readability('The cat sat on the mat.') // { flesch_reading_ease: 116.15, words: 6, ... }
 */
export function readability(text: string): ReadabilityResult {
  const all = documentSentences(text);
  const prose = all.filter((s) => s.kind !== 'heading');
  const sentences = (prose.length ? prose : all).map((s) => words(s.text)).filter((ws) => ws.length > 0);
  const wordList = sentences.flat();
  const syllables = wordList.reduce((sum, w) => sum + countSyllables(w), 0);
  if (wordList.length === 0) {
    return { flesch_reading_ease: null, flesch_kincaid_grade: null, words: 0, sentences: 0, syllables: 0 };
  }
  const wordsPerSentence = wordList.length / sentences.length;
  const syllablesPerWord = syllables / wordList.length;
  return {
    flesch_reading_ease: round2(206.835 - 1.015 * wordsPerSentence - 84.6 * syllablesPerWord),
    flesch_kincaid_grade: round2(0.39 * wordsPerSentence + 11.8 * syllablesPerWord - 15.59),
    words: wordList.length,
    sentences: sentences.length,
    syllables,
  };
}
