/**
 * Titles from a text's own words: RAKE key phrases for blog, academic and catchy titles, the
 * TextRank key sentence for news headlines. Nothing is invented; a template only arranges them.
 */
import { rankPhrases, type RankedPhrase } from './keywords';
import { detectLanguage } from './language';
import { rankSentences } from './summarize';
import { stopwordsFor } from './stopwords';
import { hashString, markdownBlocks, pick, words } from './tokenize';

export const TITLE_STYLES = ['blog', 'news', 'academic', 'catchy'] as const;
export type TitleStyle = (typeof TITLE_STYLES)[number];
export const MAX_TITLE_CHARS = 80;

// Chicago-style minor words: lower case in a title unless first or last.
const MINOR = new Set([
  'a',
  'an',
  'the',
  'and',
  'but',
  'or',
  'nor',
  'for',
  'so',
  'yet',
  'as',
  'at',
  'by',
  'in',
  'of',
  'off',
  'on',
  'per',
  'to',
  'up',
  'via',
  'vs',
]);

/** Title Case: capitalises all but minor words; words already carrying capitals (NASA, iPhone) are kept. */
export function titleCase(text: string): string {
  const parts = text.split(/(\s+)/);
  const lastWord = parts.length - 1;
  return parts
    .map((part, i) => {
      if (/^\s*$/.test(part) || /\p{Lu}/u.test(part)) return part;
      if (i !== 0 && i !== lastWord && MINOR.has(part.toLowerCase())) return part.toLowerCase();
      return part.replace(/(^|-)(\p{Ll})/gu, (_, dash: string, c: string) => dash + c.toUpperCase());
    })
    .join('');
}

/** Sentence case: first letter capitalised, everything else as written. */
export const sentenceCase = (text: string) => text.replace(/^(\P{L}*)(\p{Ll})/u, (_, pre: string, c: string) => pre + c.toUpperCase());

// A secondary phrase goes into a title only if it scores at least this share of the first one;
// below that it is a one-off detail of the text, and naming it would misstate what it is about.
const SECONDARY_SHARE = 0.5;

/**
 * The text's main key phrases by RAKE score, skipping any phrase that shares a word with one
 * already picked ("solar panels" after "solar power") and any scoring under `minShare` of the
 * best (SECONDARY_SHARE by default; drafting passes 0 to see every distinct phrase). The
 * language is detected unless given.
 */
export function keyPhrases(text: string, count: number, options: { minShare?: number; language?: string } = {}): string[] {
  const minShare = options.minShare ?? SECONDARY_SHARE;
  const ranked = rankPhrases(text, { language: options.language ?? detectLanguage(text).code });
  const best = ranked[0]?.score ?? 0;
  const picked: RankedPhrase[] = [];
  for (const phrase of ranked) {
    if (picked.length >= count || phrase.score < best * minShare) break;
    if (picked.some((p) => p.words.some((w) => phrase.words.includes(w)))) continue;
    picked.push(phrase);
  }
  return picked.map((p) => p.term);
}

// A title is a phrase, not a sentence: at most this many words (and MAX_TITLE_CHARS characters).
export const MAX_TITLE_WORDS = 12;

/** Whether a title fits: within both limits, and not ending on a function word or stray punctuation. */
function isTitle(title: string, stop: ReadonlySet<string>): boolean {
  const ws = words(title);
  const last = ws[ws.length - 1]?.toLowerCase();
  return (
    ws.length > 0 &&
    ws.length <= MAX_TITLE_WORDS &&
    title.length <= MAX_TITLE_CHARS &&
    !/[\s,;:—–\-(/&]$/.test(title) &&
    last !== undefined &&
    !stop.has(last) &&
    !MINOR.has(last)
  );
}

/**
 * The key sentence as a news headline, when it is one already: short enough whole, and not
 * ending on a function word. Its final full stop goes; a question keeps its mark. A sentence too
 * long to be a headline is not cut (a cut sentence reads as a broken one): undefined.
 */
function headline(sentence: string, stop: ReadonlySet<string>): string | undefined {
  const bare = sentence.replace(/(?<!\?)[.!…:;,]+["'”’)\]]*$/, '').trim();
  const plain = bare.replace(/\?["'”’)\]]*$/, '');
  return isTitle(plain, stop) && bare.length <= MAX_TITLE_CHARS ? bare : undefined;
}

/**
 * A title for a text in one of four styles. Every title is a phrase made of the text's RAKE key
 * phrases (or, for news, its key sentence when that is already headline-length): at most
 * MAX_TITLE_WORDS words and MAX_TITLE_CHARS characters, never ending on a function word ("of",
 * "and", "the") or on dangling punctuation, never a sentence cut part-way.
 * - blog: Title Case key phrases ("Solar Power: Solar Panels and Battery Storage");
 * - news: sentence case; the key sentence without its full stop when it is short enough
 *   ("Solar panels cut energy bills"), otherwise key phrases ("Solar power: battery storage
 *   and fossil fuels");
 * - academic: Title Case, "Key Phrase: A Study of Second and Third";
 * - catchy: Title Case, number-led when the text has a list ("4 Things to Know About Solar
 *   Panels"), otherwise a question ("What Does Solar Power Mean for Battery Storage?").
 * Template variants are chosen by a hash of the text, so the same text always gets the same title.
 */
export function makeTitle(text: string, style: TitleStyle = 'blog'): string {
  const hash = hashString(text);
  const language = detectLanguage(text).code;
  const stop = stopwordsFor(language);
  const phrases = keyPhrases(text, 3, { language });

  if (style === 'news') {
    const key = rankSentences(text)[0];
    const whole = key ? headline(key.text, stop) : undefined;
    if (whole) return sentenceCase(whole);
    const [first, second, third] = phrases;
    if (!first) return 'Untitled';
    const candidates = [
      ...(second && third ? [`${first}: ${second} and ${third}`] : []),
      ...(second ? [`${first} and ${second}`] : []),
      first,
    ];
    return sentenceCase(candidates.find((c) => isTitle(c, stop)) ?? first);
  }

  const [first, second, third] = phrases.map(titleCase);
  if (!first) return 'Untitled';

  const candidates: string[] = [];
  if (style === 'blog') {
    if (second && third) candidates.push(`${first}: ${second} and ${third}`);
    if (second) candidates.push(pick([`${first} and ${second}`, `${first}: What to Know About ${second}`], hash));
    candidates.push(pick([`A Guide to ${first}`, `Understanding ${first}`], hash));
  } else if (style === 'academic') {
    const study = pick(['A Study of', 'An Analysis of', 'An Examination of'], hash);
    if (second && third) candidates.push(`${first}: ${study} ${second} and ${third}`);
    if (second) candidates.push(`${first}: ${study} ${second}`);
    candidates.push(`${study} ${first}`);
  } else {
    const items = markdownBlocks(text).filter((b) => b.kind === 'item').length;
    if (items >= 2) candidates.push(`${items} Things to Know About ${first}`);
    if (second) candidates.push(`What Does ${first} Mean for ${second}?`);
    candidates.push(pick([`Why Does ${first} Matter?`, `What Is Really Behind ${first}?`], hash));
  }
  // A question ends with its mark, which isTitle would not see past.
  const fits = candidates.find((c) => isTitle(c.replace(/\?$/, ''), stop));
  return fits ?? first;
}
