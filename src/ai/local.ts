/**
 * The offline provider. It is not a language model: it runs the extractive and template
 * algorithms in `./text` (TextRank summaries, RAKE titles, template drafts built from the
 * prompt's own material), so it works with no network, no key and no cost, and the same request
 * always gives the same answer. `temperature` is ignored for that reason. It is the default
 * provider in development and tests, and the last resort in a fallback chain.
 *
 * Asked for structured output, it answers with a value that satisfies the schema, filled with the
 * prompt's own material (./text/fill.ts): a structural filler, not a model's answer. `maxTokens`
 * does not cut it, since cut JSON would be of no use to anyone; a schema it cannot honour is
 * refused as a bad request.
 */
import { draftFromPrompt } from './text/draft';
import { fillSchema, SchemaRefusal } from './text/fill';
import { splitInstruction, unsupportedRequest } from './text/prompt';
import { summarize } from './text/summarize';
import { makeTitle, type TitleStyle } from './text/title';
import { modelInfo } from './catalogue';
import { DEFAULT_MODELS } from './models';
import { truncateAtBoundary } from './text/tokenize';
import { type AIProvider, estimateTokens, type GenerateOptions, type GenerateRequest, type GenerateResult, ProviderError } from './types';

const MODEL = DEFAULT_MODELS.local;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProviderError('local', 'aborted', 'local: request aborted', false);
}

/** The title style a prompt asks for by name ("headline" means news); blog when it names none. */
export function inferTitleStyle(text: string): TitleStyle {
  const named = /\b(news|headline|academic|catchy)\b/i.exec(text)?.[1]?.toLowerCase();
  if (named === 'news' || named === 'headline') return 'news';
  return named === 'academic' || named === 'catchy' ? named : 'blog';
}

/** A summary budget stated in the instruction: "in 50 words", "3 sentences". */
function summaryBudget(instruction: string): { maxWords?: number; maxSentences?: number } {
  const words = /(\d+)\s+words?\b/i.exec(instruction)?.[1];
  const sentences = /(\d+)\s+sentences?\b/i.exec(instruction)?.[1];
  return { ...(words ? { maxWords: Number(words) } : {}), ...(sentences ? { maxSentences: Number(sentences) } : {}) };
}

/**
 * Splits text into word-sized chunks, each word with the whitespace after it (the first also
 * with any before it), so the chunks concatenate back to exactly the text.
 */
export function wordChunks(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

export class LocalProvider implements AIProvider {
  readonly name = 'local' as const;
  readonly defaultModel = MODEL;

  /**
   * The catalogue's window for the local model. Not a limit of the algorithms, which are linear or
   * quadratic in the text: what the chain engine budgets upstream documents to, so local runs
   * resemble model runs.
   */
  contextWindow(_model: string): number {
    return modelInfo('local', MODEL).contextWindow;
  }

  /**
   * Answers from the last user message. `task` chooses the algorithm: `summarize` → TextRank
   * summary (a word or sentence budget in the instruction is honoured), `title` → RAKE title in
   * the style the prompt or system message names, `generate` and `continue` → template draft.
   * The system message is only read for the title style: the algorithms have no use for a persona.
   */
  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const { signal, onToken } = options;
    throwIfAborted(signal);
    const user = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    if (!user.trim()) throw new ProviderError('local', 'bad_request', 'local: the request has no user message to work from', false);
    const system = request.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n');

    const task = request.task ?? 'generate';
    refuseUnsupported(task, user, request.output !== undefined);
    let text: string;
    let truncated = false;
    let json: unknown;
    if (request.output) {
      json = structured(user, request.output.schema);
      text = JSON.stringify(json);
    } else if (task === 'generate' || task === 'continue') {
      const draft = draftFromPrompt(user, {
        maxTokens: request.maxTokens,
        ...(task === 'continue' ? { intent: 'continue' as const } : {}),
      });
      ({ text, truncated } = draft);
    } else {
      const { instruction, material } = splitInstruction(user);
      const source = material || user;
      // A budget may be stated in the instruction or in the system message (the summarize node's).
      const budget = summaryBudget(`${instruction}\n${system}`);
      text = task === 'summarize' ? summarize(source, budget) : makeTitle(source, inferTitleStyle(`${instruction}\n${system}`));
      // A summary within its stated word budget is whole sentences; a token cap would only cut one.
      const withinBudget = task === 'summarize' && budget.maxWords !== undefined;
      if (!withinBudget && request.maxTokens !== undefined && estimateTokens(text) > request.maxTokens) {
        text = truncateAtBoundary(text, Math.max(0, request.maxTokens * 4));
        truncated = true;
      }
    }
    throwIfAborted(signal);

    if (request.stream && onToken) {
      for (const chunk of wordChunks(text)) {
        // Yield to the microtask queue between chunks so a consumer that aborts while handling
        // one chunk stops the stream before the next; no timers, so streaming stays fast.
        await Promise.resolve();
        throwIfAborted(signal);
        onToken(chunk);
      }
    }

    return {
      text,
      provider: 'local',
      model: MODEL,
      tokensIn: request.messages.reduce((sum, m) => sum + estimateTokens(m.content), 0),
      tokensOut: estimateTokens(text),
      finishReason: truncated ? 'length' : 'stop',
      ...(request.output ? { json } : {}),
    };
  }
}

/** The providers that are language models, named in a refusal so the caller knows what to configure. */
export const LANGUAGE_MODEL_PROVIDERS = ['workers-ai', 'openai', 'anthropic', 'google'] as const;

/**
 * Refuses, rather than answering with filler, what text algorithms cannot do: translate, answer
 * a question the prompt does not answer itself, write questions and answers. Only writing tasks
 * are read this way; summaries and titles work on their material whatever it says.
 */
function refuseUnsupported(task: string, user: string, structuredOutput: boolean): void {
  if (task !== 'generate' && task !== 'continue' && !structuredOutput) return;
  const what = unsupportedRequest(user);
  if (!what) return;
  throw new ProviderError(
    'local',
    'unsupported',
    `local: ${what} needs a language model, and the local provider is text algorithms, not one; use ${LANGUAGE_MODEL_PROVIDERS.join(', ')} (docs/api/ai.md)`,
    false,
  );
}

function structured(prompt: string, schema: Record<string, unknown>): unknown {
  try {
    return fillSchema(prompt, schema);
  } catch (err) {
    if (err instanceof SchemaRefusal) throw new ProviderError('local', 'bad_request', `local: ${err.message}`, false);
    throw err;
  }
}
