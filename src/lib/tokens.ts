/**
 * A rough token count for budgeting prompts: about four characters per token for English text
 * with the common tokenisers. Used where an estimate is enough (context budgets); providers report
 * the real counts of what they processed.
 */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4);
