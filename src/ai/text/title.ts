/**
 * Titles from a text's own words: RAKE key phrases for blog, academic and catchy titles, the
 * TextRank key sentence for news headlines. Nothing is invented; a template only arranges them.
 */
import { rankPhrases, type RankedPhrase } from './keywords';
import { detectLanguage } from './language';
import { rankSentences } from './summarize';
import { hashString, markdownBlocks, pick, truncateAtWord, words } from './tokenize';

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

/** Shortens a headline-length sentence at a clause boundary when one falls inside the limit. */
function headline(sentence: string): string {
  const bare = sentence.replace(/[.!?…:;,]+["'”’)\]]*$/, '').trim();
  if (bare.length <= MAX_TITLE_CHARS) return bare;
  const clause = bare.slice(0, MAX_TITLE_CHARS + 1).match(/^(.{20,}?)[,;:—–(](?!.*[,;:—–(])/s)?.[1];
  return (clause ?? truncateAtWord(bare, MAX_TITLE_CHARS)).trim();
}

/**
 * A title for a text in one of four styles, at most MAX_TITLE_CHARS characters:
 * - blog: Title Case key phrases ("Solar Panels and Battery Storage");
 * - news: the key sentence in sentence case, cut at a clause if too long;
 * - academic: "Key Phrase: A Study of Second and Third";
 * - catchy: number-led when the text has a list ("4 Things to Know About Solar Panels"),
 *   otherwise a question ("What Does Solar Power Mean for Battery Storage?").
 * Template variants are chosen by a hash of the text, so the same text always gets the same title.
 */
export function makeTitle(text: string, style: TitleStyle = 'blog'): string {
  const hash = hashString(text);
  if (style === 'news') {
    const key = rankSentences(text)[0];
    return key ? sentenceCase(headline(key.text)) : 'Untitled';
  }

  const phrases = keyPhrases(text, 3);
  const [first, second, third] = phrases.map(titleCase);
  if (!first) {
    const fallback = words(text).slice(0, 8).join(' ');
    return fallback ? titleCase(truncateAtWord(fallback, MAX_TITLE_CHARS)) : 'Untitled';
  }

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
  const fits = candidates.find((c) => c.length <= MAX_TITLE_CHARS);
  return fits ?? truncateAtWord(candidates[candidates.length - 1] ?? first, MAX_TITLE_CHARS);
}
