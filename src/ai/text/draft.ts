/**
 * Template drafting for the local provider. This is not a language model and does not pretend to
 * know anything: every document it writes is arranged from the prompt itself. Upstream material
 * is reused verbatim (its headings, points and sentences), key phrases come from RAKE, and the
 * connecting sentences are fixed templates that describe the document's structure rather than
 * assert facts. A hash of the prompt (or of `seed`) picks between template variants, so the same
 * input always gives the same draft.
 */
import { estimateTokens } from '../types';
import { detectIntent, documentKind, type DraftIntent, requestedAspects, splitInstruction, topicOf } from './prompt';
import { detectLanguage } from './language';
import { SCAFFOLDS } from './scaffolds';
import { stopwordsFor } from './stopwords';
import { keyPhrases, makeTitle, titleCase } from './title';
import {
  documentSentences,
  hashString,
  markdownBlocks,
  normalizedWords,
  pick,
  splitSentences,
  truncateAtBoundary,
  words,
} from './tokenize';

export type DraftOptions = {
  maxTokens?: number | undefined;
  /** Replaces the prompt as the source of template choices; same seed, same variants. */
  seed?: string | undefined;
  /** Overrides the intent read from the instruction, for callers that already know the task. */
  intent?: DraftIntent | undefined;
};
export type Draft = { text: string; truncated: boolean; intent: DraftIntent };

type Section = { heading?: string; points: string[] };
type Context = {
  topic: string;
  kind: string;
  hash: number;
  /** Prose sentences of the material, the pool verbatim references are drawn from. */
  sentences: string[];
  /** Key phrases of the whole material; a point is developed through the ones it mentions. */
  phrases: string[];
  /** Material sentences already quoted, so each is reused at most once. */
  quoted: Set<string>;
  /** Key phrases a template line has already named, so none is named twice. */
  elaborated: Set<string>;
  /** The material's language (ISO 639-3), detected once. */
  language: string;
  /** What the instruction asked the document to cover ("covering costs and maintenance"), in order. */
  aspects: string[];
  /** Stopwords of that language: sharing "the" does not make two sentences related. */
  stop: ReadonlySet<string>;
  /** Content words per text, so each sentence is tokenised once however often it is compared. */
  wordCache: Map<string, Set<string>>;
};

function contentWords(ctx: Context, text: string): Set<string> {
  let found = ctx.wordCache.get(text);
  if (!found) {
    found = new Set(normalizedWords(text).filter((w) => !ctx.stop.has(w)));
    ctx.wordCache.set(text, found);
  }
  return found;
}

/** Whether two texts share a content word. */
function sharesWord(ctx: Context, a: string, b: string): boolean {
  const bWords = contentWords(ctx, b);
  for (const w of contentWords(ctx, a)) if (bWords.has(w)) return true;
  return false;
}

const fill = (template: string, ctx: Context) =>
  template.replaceAll('{t}', ctx.topic).replaceAll('{T}', titleCase(ctx.topic)).replaceAll('{k}', ctx.kind);

const capitalize = (s: string) => s.replace(/^\p{Ll}/u, (c) => c.toUpperCase());
// Lower-cases a leading capital unless the first word looks like a name or acronym (two capitals).
const lowerFirst = (s: string) => (/^\p{Lu}\p{Ll}/u.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);
const withStop = (s: string) => (/[.!?…]["'”’)\]]*$/.test(s) ? s : `${s}.`);
// A point is a sentence when punctuated as one, long, or built around a finite verb; a point
// opening with a question word ("How prices fell") is a heading-like topic, not a claim.
const isSentence = (s: string) =>
  /[.!?…]["'”’)\]]*$/.test(s) ||
  words(s).length >= 10 ||
  (!/^(how|why|what|when|where|who|which)\b/i.test(s) && /\b(is|are|was|were|has|have|had|will|can|must|should|does|do)\b/i.test(s));

/** Joins phrases as English does: "a", "a and b", "a, b and c". */
function listOf(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Groups material into sections: a heading opens one, list items and paragraphs are its points. */
function sectionsOf(material: string): Section[] {
  const sections: Section[] = [];
  for (const block of markdownBlocks(material)) {
    if (block.kind === 'heading') sections.push({ heading: block.text, points: [] });
    else if (sections.length === 0) sections.push({ points: [block.text] });
    else sections[sections.length - 1]!.points.push(block.text);
  }
  return sections;
}

/** The first material sentence not yet quoted (and not part of `exclude`) that shares a content word with `about`. */
function quote(ctx: Context, about: string, exclude: string): string | undefined {
  const found = ctx.sentences.find((s) => !ctx.quoted.has(s) && !exclude.includes(s) && sharesWord(ctx, s, about));
  if (found) ctx.quoted.add(found);
  return found;
}

const ELABORATIONS = [
  'Looking at {p} more closely is a way into {t} as a whole.',
  'The thread to follow in this part of the {k} is {p}.',
  'The focus here is {p}, seen in the context of {t}.',
] as const;

/**
 * A paragraph that develops one point of the material. A bare outline point gets a sentence
 * introducing it; a prose point keeps each of its sentences verbatim (unless already quoted).
 * Each sentence is followed by a template line naming a key phrase it mentions, and the
 * paragraph ends with a related sentence quoted from elsewhere in the material.
 */
function develop(point: string, ctx: Context, salt: number): string {
  const topicWords = new Set(normalizedWords(ctx.topic));
  const prose = isSentence(point);
  const units = prose ? splitSentences(point).filter((s) => !ctx.quoted.has(s)) : [point];
  const parts: string[] = [];
  units.forEach((unit, i) => {
    if (prose) {
      ctx.quoted.add(unit);
      parts.push(withStop(unit));
    } else parts.push(`This section covers ${lowerFirst(unit)}.`);
    const phrase = [...ctx.phrases, ...keyPhrases(unit, 2, { minShare: 0, language: ctx.language })].find(
      (p) =>
        sharesWord(ctx, p, unit) &&
        !ctx.elaborated.has(p) &&
        normalizedWords(p).some((w) => !topicWords.has(w)) &&
        normalizedWords(p).join(' ') !== normalizedWords(unit).join(' '),
    );
    if (!phrase) return;
    ctx.elaborated.add(phrase);
    parts.push(fill(pick(ELABORATIONS, ctx.hash, salt + i).replaceAll('{p}', phrase), ctx));
  });
  if (parts.length === 0) return '';
  const related = quote(ctx, point, point);
  if (related)
    parts.push(
      `${pick(['As the source material puts it:', 'The material makes a related point:', 'In the words of the source:'], ctx.hash, salt)} ${withStop(related)}`,
    );
  return parts.join(' ');
}

function outlineBlocks(material: string, ctx: Context): string[] {
  const blocks = [`# ${titleCase(ctx.topic)}: ${pick(['An Outline', 'Outline', 'A Working Outline'], ctx.hash)}`];
  const items: string[] = [`**Introduction**: the scope of the ${ctx.kind} and why ${ctx.topic} is worth a reader's time`];
  const sections = sectionsOf(material);
  const structured = sections.some((s) => s.heading) || sections.some((s) => s.points.length > 1);
  if (structured) {
    for (const section of sections) {
      const sub = section.points.map((p) => `   - ${p}`).join('\n');
      const head = section.heading ? `**${section.heading}**` : '**Key points**';
      items.push(sub ? `${head}\n${sub}` : head);
    }
  } else if (material.trim()) {
    // One item per key phrase, supported by the sentences that mention it; a phrase whose
    // sentences were all taken by earlier items adds nothing and is left out.
    for (const phrase of ctx.phrases) {
      const support = [quote(ctx, phrase, ''), quote(ctx, phrase, '')].filter((s): s is string => s !== undefined);
      if (support.length) items.push([`**${titleCase(phrase)}**`, ...support.map((s) => `   - ${s}`)].join('\n'));
    }
  } else if (ctx.aspects.length > 0) {
    for (const aspect of ctx.aspects) items.push(`**${titleCase(aspect)}**: how ${aspect} bears on ${ctx.topic}`);
  } else {
    for (const phrase of keyPhrases(ctx.topic, 3).filter((p) => p.toLowerCase() !== ctx.topic.toLowerCase())) {
      items.push(`**${titleCase(phrase)}**: how ${phrase} relates to ${ctx.topic}`);
    }
    for (const step of pick(SCAFFOLDS, ctx.hash, 1).slice(0, -1)) items.push(`**${fill(step.heading, ctx)}**: ${fill(step.point, ctx)}`);
  }
  items.push(`**Conclusion**: what the ${ctx.kind} has shown about ${ctx.topic}`);
  blocks.push(items.map((item, i) => `${i + 1}. ${item}`).join('\n'));
  return blocks;
}

// What a section asked for by name is for; structural, like the scaffolds: nothing asserted about the topic.
const ASPECT_LINES = [
  'This section is for {a}: what a reader needs to know about {a} when it comes to {t}.',
  'Here the {k} turns to {a} and what it means for {t}.',
  'This part sets out how {a} applies to {t}.',
] as const;

function writeBlocks(material: string, ctx: Context, titleFromTopic: boolean): string[] {
  const title = titleFromTopic || !material ? titleCase(ctx.topic) : makeTitle(material, 'blog');
  const blocks = [`# ${title}`];
  // Multi-word phrases name subjects; a lone word ("cheaper") often does not, so it is used only
  // when the material has nothing longer.
  const others = ctx.phrases.filter((p) => p.toLowerCase() !== ctx.topic.toLowerCase());
  const multiWord = others.filter((p) => words(p).length > 1);
  const covered = multiWord.length ? multiWord : others;
  const intro = ctx.aspects.length > 0 && !material ? ctx.aspects : covered;
  blocks.push(
    intro.length
      ? `This ${ctx.kind} covers ${ctx.topic}, looking in turn at ${listOf(intro.slice(0, 3))}.`
      : `This ${ctx.kind} looks at ${ctx.topic}: what it is, why it matters and where its limits lie.`,
  );
  if (!material && ctx.aspects.length > 0) {
    // Asked for named aspects with no material: one section for each, saying what it is for.
    for (const [i, aspect] of ctx.aspects.entries()) {
      const line = pick(ASPECT_LINES, ctx.hash, i).replaceAll('{a}', aspect).replaceAll('{t}', ctx.topic).replaceAll('{k}', ctx.kind);
      blocks.push(`## ${titleCase(aspect)}`, line);
    }
  } else if (!material) {
    for (const step of pick(SCAFFOLDS, ctx.hash, 1)) blocks.push(`## ${fill(step.heading, ctx)}`, fill(step.body, ctx));
  } else {
    let salt = 0;
    for (const section of sectionsOf(material)) {
      if (section.heading) blocks.push(`## ${section.heading}`);
      for (const point of section.points) {
        const paragraph = develop(point, ctx, salt++);
        if (!paragraph) continue;
        if (!section.heading && !isSentence(point) && words(point).length <= 8) blocks.push(`## ${titleCase(point)}`);
        blocks.push(paragraph);
      }
      if (section.heading && section.points.length === 0)
        blocks.push(develop(section.heading, ctx, salt++) || `This section covers ${lowerFirst(section.heading)}.`);
    }
  }
  blocks.push('## Conclusion');
  blocks.push(
    covered.length
      ? `This ${ctx.kind} has covered ${listOf(covered.slice(0, 3))}. Each connects back to ${ctx.topic}, and together they give a first overview of it.`
      : `This ${ctx.kind} has given a first overview of ${ctx.topic}; each section above can be developed further.`,
  );
  return blocks;
}

function continueBlocks(material: string, ctx: Context): string[] {
  const paragraphs = markdownBlocks(material).filter((b) => b.kind !== 'heading');
  const last = paragraphs[paragraphs.length - 1]?.text ?? ctx.topic;
  const lastPhrases = keyPhrases(last, 3, { language: ctx.language });
  const lead = lastPhrases[0] ?? ctx.topic;
  const blocks = [`## ${pick(['More on', 'Beyond', 'Next:'], ctx.hash)} ${titleCase(lead)}`];
  const lastSentence = splitSentences(last).pop();
  blocks.push(
    [
      `Building on ${listOf(lastPhrases.length ? lastPhrases : [lead])}, the next step is to see where ${lastPhrases.length > 1 ? 'they lead' : 'it leads'} within ${ctx.topic}.`,
      lastSentence ? `The previous section ended on this point: ${withStop(lastSentence)}` : '',
    ]
      .filter(Boolean)
      .join(' '),
  );
  if (lastSentence) ctx.quoted.add(lastSentence);
  lastPhrases.forEach((phrase, salt) => {
    const opener = pick(
      [`${capitalize(phrase)} deserves a closer look here.`, `Turning to ${phrase}:`, `Consider ${phrase} next.`],
      ctx.hash,
      salt,
    );
    const earlier = quote(ctx, phrase, last) ?? quote(ctx, phrase, '');
    blocks.push(
      earlier
        ? `${opener} Earlier, the text noted: ${withStop(earlier)}`
        : `${opener} This section turns to the role of ${phrase} in ${ctx.topic}.`,
    );
  });
  return blocks;
}

/**
 * Drafts a markdown document from a prompt: an outline for "outline ..." requests, a developed
 * article for "write/draft/expand ..." (from the material after the instruction, or from a
 * topic alone), or a next section for "continue ...". Output is cut at a line or word boundary
 * to about `maxTokens` (four characters a token, as `estimateTokens` counts); `truncated` says so.
 *
 * @example draftFromPrompt('Outline an article about solar power').text // "# Solar Power: An Outline\n\n1. ..."
 */
export function draftFromPrompt(prompt: string, options: DraftOptions = {}): Draft {
  let { instruction, material } = splitInstruction(prompt);
  // A short one-line prompt with no instruction verb ("solar power") is a topic, not material.
  if (!instruction && !material.includes('\n') && words(material).length <= 12) [instruction, material] = [material, ''];
  const intent = options.intent ?? detectIntent(instruction);
  const { aspects, rest } = requestedAspects(instruction);
  const explicitTopic = topicOf(rest);
  // A document that opens with a top-level heading names its own topic.
  const [opening] = markdownBlocks(material);
  const heading = opening?.kind === 'heading' && opening.depth === 1 ? opening.text : undefined;
  const language = detectLanguage(material).code;
  const phrases = material ? keyPhrases(material, 5, { minShare: 0, language }) : [];
  const ctx: Context = {
    topic: explicitTopic ?? (heading && lowerFirst(heading)) ?? phrases[0] ?? (instruction || 'the topic'),
    kind: documentKind(instruction),
    hash: hashString(options.seed ?? prompt),
    sentences: documentSentences(material)
      .filter((s) => s.kind === 'paragraph')
      .map((s) => s.text),
    phrases,
    quoted: new Set(),
    elaborated: new Set(),
    language,
    aspects,
    stop: stopwordsFor(language),
    wordCache: new Map(),
  };
  const blocks =
    intent === 'outline'
      ? outlineBlocks(material, ctx)
      : intent === 'continue'
        ? continueBlocks(material, ctx)
        : writeBlocks(material, ctx, explicitTopic !== undefined);
  const full = blocks.join('\n\n');
  const maxTokens = options.maxTokens;
  if (maxTokens === undefined || estimateTokens(full) <= maxTokens) return { text: full, truncated: false, intent };
  return { text: truncateAtBoundary(full, Math.max(0, maxTokens * 4)), truncated: true, intent };
}
