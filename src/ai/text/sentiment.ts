/**
 * Lexicon sentiment with the `sentiment` package: each word found in AFINN-165 carries a score
 * from -5 to +5 (negators such as "not" flip the next word); `score` is the sum, `comparative`
 * the sum divided by the number of tokens. AFINN is English-only, so other languages score near 0.
 */
import Sentiment from 'sentiment';
import { plainText } from './tokenize';

export type SentimentResult = { label: 'positive' | 'negative' | 'neutral'; score: number; comparative: number };

// The analyser only holds the lexicon; sharing one per isolate avoids rebuilding it per call.
const analyzer = new Sentiment();

/** @example sentimentOf('I love this, it is wonderful.') // { label: 'positive', score: 7, ... } */
export function sentimentOf(text: string): SentimentResult {
  const { score, comparative } = analyzer.analyze(plainText(text));
  const label = score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral';
  return { label, score, comparative: Number.isFinite(comparative) ? comparative : 0 };
}
