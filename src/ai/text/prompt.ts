/**
 * Reading a prompt the way the local provider needs to: which part is the instruction, which part
 * is upstream material, what is being asked for, about what, and in what form. Regular
 * expressions over English phrasing only; anything unrecognised is treated as a writing request.
 */
import { rankPhrases } from './keywords';
import { words } from './tokenize';

export type DraftIntent = 'outline' | 'write' | 'continue';
export type ParsedPrompt = { instruction: string; material: string };

const INSTRUCTION_VERB =
  /^\W*(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(write|draft|expand|outline|continue|summari[sz]e|compose|create|generate|produce|turn|rewrite|develop|make|give|list|plan|extend|title|suggest|propose|elaborate|flesh|keep|carry|add)\b/i;

/**
 * Splits a prompt into its instruction and the material after it. The instruction is the first
 * paragraph when it starts with an instruction verb or ends with a colon; "Verb ...: text" on one
 * line splits at the colon. A prompt with no recognisable instruction is all material.
 *
 * @example splitInstruction('Write an article from this outline:\n- Costs\n- Benefits')
 * // { instruction: 'Write an article from this outline:', material: '- Costs\n- Benefits' }
 */
export function splitInstruction(prompt: string): ParsedPrompt {
  const text = prompt.trim();
  const firstBreak = text.search(/\n/);
  const firstLine = firstBreak < 0 ? text : text.slice(0, firstBreak);
  const rest = firstBreak < 0 ? '' : text.slice(firstBreak + 1).trim();
  const isInstruction = INSTRUCTION_VERB.test(firstLine) || /:\s*$/.test(firstLine);
  if (!isInstruction) return { instruction: '', material: text };
  const colon = firstLine.indexOf(':');
  if (INSTRUCTION_VERB.test(firstLine) && colon > 0 && firstLine.slice(colon + 1).trim()) {
    const inline = firstLine.slice(colon + 1).trim();
    return { instruction: firstLine.slice(0, colon + 1).trim(), material: rest ? `${inline}\n${rest}` : inline };
  }
  return { instruction: firstLine.trim(), material: rest };
}

/**
 * What the instruction asks for. "Continue"/"next section" wins over everything; "write an
 * outline" is an outline, while "write an article from this outline" is writing from one.
 */
export function detectIntent(instruction: string): DraftIntent {
  const text = instruction.toLowerCase();
  if (/\b(continue|next (section|part|chapter|paragraph)|keep going|carry on|pick up where|extend)\b/.test(text)) return 'continue';
  if (/\b(write|draft|create|make|produce|give|generate|build|prepare)\s+(me\s+)?(an?|the|a short|a detailed)\s+outline\b/.test(text))
    return 'outline';
  if (/\b(write|draft|expand|compose|develop|turn|rewrite|flesh out|elaborate)\b/.test(text)) return 'write';
  if (/\b(outline|table of contents|list the (main )?(points|sections|steps)|plan)\b/.test(text)) return 'outline';
  return 'write';
}

/** The kind of document asked for ("blog post", "essay", ...); "article" when none is named. */
export function documentKind(instruction: string): string {
  return (
    /\b(blog post|article|post|essay|report|story|guide|newsletter|memo|email|paper|chapter|section|document|tutorial|review)\b/i
      .exec(instruction)?.[1]
      ?.toLowerCase() ?? 'article'
  );
}

// Words that describe the request rather than its subject, ignored when looking for a topic.
const REQUEST_WORDS = new Set([
  'write',
  'draft',
  'expand',
  'outline',
  'continue',
  'summarize',
  'summarise',
  'compose',
  'create',
  'generate',
  'produce',
  'turn',
  'rewrite',
  'develop',
  'make',
  'give',
  'list',
  'plan',
  'extend',
  'title',
  'please',
  'article',
  'blog',
  'post',
  'essay',
  'report',
  'story',
  'guide',
  'newsletter',
  'memo',
  'email',
  'paper',
  'chapter',
  'section',
  'document',
  'tutorial',
  'review',
  'short',
  'long',
  'detailed',
  'brief',
  'next',
  'following',
  'text',
  'material',
  'points',
  'words',
  'paragraph',
  'paragraphs',
  'sentences',
  'headline',
]);

/**
 * The subject of a request: what follows "about"/"on"/"regarding"/"covering"/"concerning" in the
 * instruction, else the instruction's own key phrase once request words are set aside, else
 * undefined (the caller then falls back to the material's key phrases).
 *
 * @example topicOf('Outline an article about solar power') // 'solar power'
 */
export function topicOf(instruction: string): string | undefined {
  // Up to the first stop, whitespace collapsed: `(.+?)\s*` and the `\s+in …$` below would
  // backtrack over a long run of spaces (quadratic in the prompt).
  const about = /\b(?:about|on|regarding|covering|concerning)\s+([^.:!?;\n]+)/i.exec(instruction)?.[1]?.replace(/\s+/g, ' ').trim();
  const cleaned = about
    ?.replace(/^(?:the|a|an)\s+/i, '')
    .replace(/\s+in\s+\d+\s+\w+$/i, '')
    .trim();
  // "on this outline", "about the following": the subject is in the material, not here.
  if (cleaned && !/^(?:this|these|that|those|following|below|above|my|our|it)\b/i.test(cleaned)) return cleaned;
  const kept = instruction
    .split(/\s+/)
    .filter((w) => !REQUEST_WORDS.has(w.toLowerCase().replace(/[^\p{L}]/gu, '')))
    .join(' ');
  return rankPhrases(kept)[0]?.term;
}

// Languages a translation request names ("into Spanish", "in French"), English names and endonyms.
const LANGUAGE_NAMES =
  'spanish|español|french|français|german|deutsch|italian|italiano|portuguese|português|dutch|nederlands|' +
  'russian|chinese|mandarin|japanese|korean|arabic|hindi|turkish|polish|swedish|norwegian|danish|finnish|greek|' +
  'hebrew|czech|ukrainian|romanian|hungarian|indonesian|vietnamese|thai|catalan|basque|galician';
const TRANSLATION = new RegExp(
  `\\b(?:translat(?:e|es|ed|ing|ion)|traduc(?:e|ir|ción)|tradui(?:s|re)|übersetze?n?)\\b|\\b(?:in|into)\\s+(?:${LANGUAGE_NAMES})\\b`,
  'i',
);
const QUESTION_START = /^\W*(?:what|why|how|who|whose|when|where|which)\s+(?:is|are|was|were|do|does|did|can|could|should|would|will)\b/i;
const ANSWERING = /\b(?:faq|frequently asked questions|answer (?:the|these|this|my|each|every|following) questions?|q&a)\b/i;

/**
 * What the local provider cannot do for this prompt, if anything. It has no language model and
 * no knowledge: it cannot translate (it would return the text unchanged), answer a question the
 * prompt does not itself answer, or write questions and answers. Everything else — summaries,
 * titles, keywords, outlines and scaffolds from the prompt's own material — it can.
 *
 * @example unsupportedRequest('Translate into Spanish:\nGood morning') // 'translation'
 * @example unsupportedRequest('What is the capital of France?') // 'answering a question'
 */
export function unsupportedRequest(prompt: string): 'translation' | 'answering a question' | 'questions and answers' | undefined {
  const { instruction, material } = splitInstruction(prompt);
  // The request is the instruction, or the whole prompt when it has no recognised instruction.
  const request = instruction || prompt.trim().split('\n')[0]!;
  if (TRANSLATION.test(request)) return 'translation';
  if (ANSWERING.test(request)) return 'questions and answers';
  // A question with nothing to draw the answer from; "Why X matters: <text>" carries its material.
  const question = /\?\s*$/.test(request) || (QUESTION_START.test(request) && !INSTRUCTION_VERB.test(request));
  const context = instruction ? material : prompt.trim().split('\n').slice(1).join('\n');
  if (question && words(context).length < 40) return 'answering a question';
  return undefined;
}

// Linear in the instruction: no pattern here can backtrack over a run of spaces (a long one
// made the earlier `\s*,?\s*…(.+?)\s*` form take seconds for a few thousand).
const ASPECT_LEAD =
  /\b(?:covering|including|that covers|which covers|with sections on|addressing|focusing on|looking at)\s+([^.!?;]+)[.!?;]?/i;

/**
 * The aspects an instruction asks a document to cover ("… covering costs, maintenance and
 * regulations" → costs, maintenance, regulations), and the instruction without them, so the
 * topic is read from what remains.
 */
const withoutTrailingComma = (text: string) => {
  const trimmed = text.trimEnd();
  return trimmed.endsWith(',') ? trimmed.slice(0, -1).trimEnd() : trimmed;
};

export function requestedAspects(instruction: string): { aspects: string[]; rest: string } {
  const match = ASPECT_LEAD.exec(instruction);
  if (!match) return { aspects: [], rest: instruction };
  const aspects = match[1]!
    .split(/[,;&]|\b(?:and|or)\b/i)
    .map((a) => a.trim().replace(/^(?:the|its|their)\s+/i, ''))
    .filter((a) => a.length > 1 && a.split(/\s+/).length <= 6);
  return {
    aspects: [...new Set(aspects)].slice(0, 8),
    rest: `${withoutTrailingComma(instruction.slice(0, match.index))}${instruction.slice(match.index + match[0].length)}`.trim(),
  };
}
