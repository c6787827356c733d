/** The text-analysis functions used by the workflow engine's nodes and the local AI provider. */
export { analyzeText, ANALYSIS_KINDS, type AnalysisKind, type TextAnalysis } from './analyze';
export { draftFromPrompt, type Draft, type DraftOptions } from './draft';
export { extractKeywords, type Keyword } from './keywords';
export { detectLanguage, type LanguageResult } from './language';
export { detectIntent, splitInstruction, topicOf, type DraftIntent } from './prompt';
export { qualityOf, type QualityResult } from './quality';
export { countSyllables, readability, type ReadabilityResult } from './readability';
export { sentimentOf, type SentimentResult } from './sentiment';
export { summarize, type SummaryOptions } from './summarize';
export { makeTitle, MAX_TITLE_CHARS, TITLE_STYLES, type TitleStyle } from './title';
