import type { RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { ApiError } from '../lib/errors';
import { insertDocument, type DocumentRow } from './queries';
import { titleOf } from '../engine';
import { estimateTokens, ProviderError, type ProviderName, generateWithChain, providerChain, type AiEnv } from '../ai';

/** How much of the previous document a continuation prompt carries: its ending matters most. */
const CONTEXT_CHARS = 6000;

/**
 * The seeds' chain behaviour: the next document is generated from the latest one. Without a
 * prompt, one is written automatically from the end of the previous document.
 */
export function continuationPrompt(previous: DocumentRow, instruction?: string): string {
  const tail = previous.content.length > CONTEXT_CHARS ? `…${previous.content.slice(-CONTEXT_CHARS)}` : previous.content;
  const ask =
    instruction ??
    `Continue "${previous.title}" with its next section. Keep the same voice and build on the last points made; do not repeat earlier sections.`;
  return `${ask}\n\nPrevious document:\n${tail}`;
}

export async function continueDocument(
  env: Env,
  db: DB,
  meta: RequestMeta,
  previous: DocumentRow,
  opts: { prompt?: string | undefined; provider?: ProviderName | undefined; model?: string | undefined; max_tokens?: number | undefined },
): Promise<DocumentRow> {
  const aiEnv: AiEnv = env;
  const prompt = continuationPrompt(previous, opts.prompt);
  try {
    const r = await generateWithChain(aiEnv, providerChain(aiEnv, opts.provider), {
      task: 'continue',
      messages: [{ role: 'user', content: prompt }],
      model: opts.model,
      maxTokens: opts.max_tokens ?? 1024,
    });
    return await insertDocument(db, meta, {
      ownerId: previous.ownerId,
      workflowId: previous.workflowId,
      runId: previous.runId,
      parentId: previous.id,
      title: titleOf(r.text),
      content: r.text,
      metadata: {
        provider: r.provider,
        model: r.model,
        tokens_in: r.tokensIn,
        tokens_out: r.tokensOut,
        prompt_tokens_estimate: estimateTokens(prompt),
        automatic_prompt: opts.prompt === undefined,
      },
    });
  } catch (err) {
    if (err instanceof ProviderError)
      throw new ApiError('service_unavailable', `No AI provider could continue the document: ${err.message}`, {
        details: { retryable: err.retryable },
      });
    throw err;
  }
}
