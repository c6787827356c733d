/**
 * The `analyze` workflow node's function: runs the requested analyses over one text. The
 * language is detected once and reused so keyword extraction uses that language's stopwords.
 */
import { extractKeywords, type Keyword } from './keywords';
import { detectLanguage, type LanguageResult } from './language';
import { qualityOf, type QualityResult } from './quality';
import { readability, type ReadabilityResult } from './readability';
import { sentimentOf, type SentimentResult } from './sentiment';

export const ANALYSIS_KINDS = ['sentiment', 'keywords', 'readability', 'language', 'quality'] as const;
export type AnalysisKind = (typeof ANALYSIS_KINDS)[number];

export type TextAnalysis = {
  sentiment?: SentimentResult;
  keywords?: Keyword[];
  readability?: ReadabilityResult;
  language?: LanguageResult;
  quality?: QualityResult;
};

/**
 * Runs the requested analyses (all of them by default) and returns one entry per analysis.
 *
 * @example analyzeText('Solar power is cheap and clean.', ['sentiment', 'keywords'])
 */
export function analyzeText(text: string, analyses: readonly AnalysisKind[] = ANALYSIS_KINDS): TextAnalysis {
  const wanted = new Set(analyses);
  const out: TextAnalysis = {};
  const language = wanted.has('language') || wanted.has('keywords') ? detectLanguage(text) : undefined;
  if (wanted.has('sentiment')) out.sentiment = sentimentOf(text);
  if (wanted.has('keywords')) out.keywords = extractKeywords(text, { language: language?.code });
  if (wanted.has('readability')) out.readability = readability(text);
  if (wanted.has('language') && language) out.language = language;
  if (wanted.has('quality')) out.quality = qualityOf(text);
  return out;
}
