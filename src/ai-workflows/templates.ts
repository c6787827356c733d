import { z } from '@hono/zod-openapi';
import type { NodeSchema } from '../engine';

/** A node as written (defaults not yet filled in); the workflow validator fills them. */
type NodeInput = z.input<typeof NodeSchema>;

/*
 * Built-in AI workflow templates. A template is not a new kind of workflow: it is a function from
 * a few parameters to an ordinary node list, which is then saved through the same validator and
 * creation code as any hand-written workflow and run by the same chain engine. Only node types
 * that exist are used; there is no "translate" node, so translation is a `generate` node with a
 * translation prompt (which only a language model — not the offline `local` provider — honours).
 *
 * Parameters are the template's `input_data`. String parameters are read at run time through
 * `{{input.<name>}}`; integer parameters shape the graph itself (how many posts a series has, a
 * summary's length) and are baked into the nodes when the workflow is created.
 */

export type Param = {
  name: string;
  type: 'string' | 'integer';
  required: boolean;
  description: string;
  default?: string | number;
  min?: number;
  max?: number;
};

export type Template = {
  name: string;
  workflow_type: string;
  description: string;
  parameters: Param[];
  example: Record<string, string | number>;
  /**
   * Set when what the template promises only a language model can do (translating, writing a
   * series that develops from post to post): with the `local` provider it is refused at creation
   * rather than run into filler.
   */
  requires_language_model?: true;
  build: (input: Record<string, unknown>) => NodeInput[];
};

const TEXT_MAX = 20_000;
const str = (name: string, description: string, required: boolean, dflt?: string, max = 2000): Param => ({
  name,
  type: 'string',
  required,
  description,
  max,
  ...(dflt !== undefined ? { default: dflt } : {}),
});
const int = (name: string, description: string, min: number, max: number, dflt: number): Param => ({
  name,
  type: 'integer',
  required: false,
  description,
  min,
  max,
  default: dflt,
});

const gen = (id: string, prompt: string, depends_on: string[] = [], name?: string): NodeInput => ({
  id,
  type: 'generate',
  prompt,
  depends_on,
  ...(name ? { name } : {}),
});

const contentGeneration: Template = {
  name: 'content_generation',
  workflow_type: 'content_generation',
  description: 'Outline → draft → edit → title: an article about a topic, each step working on the previous document.',
  parameters: [
    str('topic', 'What the article is about', true, undefined, 500),
    str('prompt', 'Extra instructions for the writer', false, ''),
    str('audience', 'Who the article is for', false, 'a general audience', 200),
  ],
  example: { topic: 'AI Automation', prompt: 'Generate content about AI automation' },
  build: () => [
    gen('outline', 'Write an outline for an article about {{input.topic}} for {{input.audience}}.\n{{input.prompt}}', [], 'Outline'),
    gen('draft', 'Write the full article about {{input.topic}} from this outline:\n{{nodes.outline.output}}', ['outline'], 'Draft'),
    gen('edit', 'Edit this article for clarity and flow; keep its structure and facts:\n{{nodes.draft.output}}', ['draft'], 'Edit'),
    { id: 'title', type: 'title', depends_on: ['edit'], style: 'blog', name: 'Title' },
  ],
};

const blogSeries: Template = {
  name: 'blog_series',
  workflow_type: 'content_generation',
  description: 'A series of blog posts as a continuing chain: every post is written from the one before it, then the series is summarised.',
  parameters: [
    str('topic', 'What the series is about', true, undefined, 500),
    int('posts', 'How many posts (fixed when the workflow is created)', 2, 10, 3),
  ],
  example: { topic: 'Home composting', posts: 3 },
  requires_language_model: true,
  build: (input) => {
    const count = input.posts as number;
    const posts = Array.from({ length: count }, (_, i): NodeInput => {
      const n = i + 1;
      return i === 0
        ? gen('post_1', `Write post 1 of ${count} of a blog series about {{input.topic}}.`, [], 'Post 1')
        : gen(
            `post_${n}`,
            `Write post ${n} of ${count} of a blog series about {{input.topic}}, continuing from the previous post:\n{{nodes.post_${i}.output}}`,
            [`post_${i}`],
            `Post ${n}`,
          );
    });
    return [
      ...posts,
      { id: 'series_summary', type: 'summarize', depends_on: posts.map((p) => p.id), max_words: 200, name: 'Series summary' },
    ];
  },
};

const summarization: Template = {
  name: 'summarization',
  workflow_type: 'summarization',
  description: 'A summary of a text, its keywords, and a title for the summary.',
  parameters: [
    str('text', 'The text to summarise', true, undefined, TEXT_MAX),
    int('max_words', 'Summary length in words (fixed at creation)', 10, 2000, 150),
  ],
  example: { text: 'Solar panels convert sunlight into electricity. Small farms use them to cut costs and sell power back to the grid.' },
  build: (input) => [
    { id: 'summary', type: 'summarize', source: '{{input.text}}', max_words: input.max_words as number, depends_on: [], name: 'Summary' },
    { id: 'keywords', type: 'analyze', source: '{{input.text}}', analyses: ['keywords'], depends_on: [], name: 'Keywords' },
    { id: 'title', type: 'title', depends_on: ['summary'], style: 'news', name: 'Title' },
  ],
};

const translation: Template = {
  name: 'translation',
  workflow_type: 'translation',
  description: 'Translate a text into a target language, then detect the language of the result as a check.',
  parameters: [
    str('text', 'The text to translate', true, undefined, TEXT_MAX),
    str('target_language', 'Language to translate into, e.g. "Spanish"', true, undefined, 64),
    str('source_language', 'Language of the text, if known', false, 'the language it is written in', 64),
  ],
  example: { text: 'Good morning, the report is ready.', target_language: 'Spanish' },
  requires_language_model: true,
  build: () => [
    gen(
      'translate',
      'Translate the following text from {{input.source_language}} into {{input.target_language}}. Reply with the translation only.\n\n{{input.text}}',
      [],
      'Translation',
    ),
    { id: 'language_check', type: 'analyze', depends_on: ['translate'], analyses: ['language'], name: 'Language check' },
  ],
};

const seoAnalysis: Template = {
  name: 'seo_analysis',
  workflow_type: 'analysis',
  description: 'Measure keywords, readability and quality of a text, then write SEO advice, a meta title and a meta description.',
  parameters: [
    str('text', 'The page content', true, undefined, TEXT_MAX),
    str('keywords', 'Target keywords, comma separated', false, '', 500),
  ],
  example: { text: 'Our bakery in Lyon bakes sourdough bread every morning with organic flour.', keywords: 'sourdough, Lyon bakery' },
  build: () => [
    {
      id: 'metrics',
      type: 'analyze',
      source: '{{input.text}}',
      analyses: ['keywords', 'readability', 'quality'],
      depends_on: [],
      name: 'Metrics',
    },
    gen(
      'advice',
      // The metrics as a reader states them, not as JSON: reading ease and grade, the quality score, the top key phrases.
      'Give concrete SEO recommendations for this content. Target keywords: {{input.keywords}}. Readability: Flesch reading ease {{nodes.metrics.output.readability.flesch_reading_ease}}, grade {{nodes.metrics.output.readability.flesch_kincaid_grade}}. Quality score: {{nodes.metrics.output.quality.score}} out of 100. Key phrases found: {{nodes.metrics.output.keywords[0].term}}, {{nodes.metrics.output.keywords[1].term}}, {{nodes.metrics.output.keywords[2].term}}.\n\nContent:\n{{input.text}}',
      ['metrics'],
      'SEO advice',
    ),
    { id: 'meta_title', type: 'title', source: '{{input.text}}', style: 'catchy', depends_on: [], name: 'Meta title' },
    { id: 'meta_description', type: 'summarize', source: '{{input.text}}', max_words: 30, depends_on: [], name: 'Meta description' },
  ],
};

const documentReview: Template = {
  name: 'document_review',
  workflow_type: 'review',
  description: 'Analyse and summarise a document, wait for a person to approve it, then publish the approved text.',
  parameters: [
    str('text', 'The document to review', true, undefined, TEXT_MAX),
    int('approval_timeout_seconds', 'How long the approval waits before the run fails (fixed at creation)', 60, 30 * 86_400, 86_400),
  ],
  example: { text: 'Quarterly report: revenue grew 12% and costs fell 3%. We propose hiring two engineers.' },
  build: (input) => [
    {
      id: 'analysis',
      type: 'analyze',
      source: '{{input.text}}',
      analyses: ['quality', 'readability', 'sentiment'],
      depends_on: [],
      name: 'Analysis',
    },
    { id: 'summary', type: 'summarize', source: '{{input.text}}', max_words: 100, depends_on: [], name: 'Summary' },
    {
      id: 'review',
      type: 'approval',
      depends_on: ['analysis', 'summary'],
      message: 'Approve this document? Summary: {{nodes.summary.output}} (quality: {{nodes.analysis.output.quality}})',
      approval_timeout_seconds: input.approval_timeout_seconds as number,
      on_timeout: 'reject',
      name: 'Approval',
    },
    {
      id: 'publish',
      type: 'transform',
      source: '{{input.text}}',
      operations: [{ op: 'trim' }],
      depends_on: ['review'],
      name: 'Approved document',
    },
  ],
};

/**
 * A long document written section by section, from only the composer's own parts: a structured
 * outline (title, glossary, one heading and summary per section) → a map writing every section,
 * each seeing its siblings' one-line summaries and the shared glossary (bounded by the outline's
 * schema, so each section's prompt stays the same size whatever the document's length) → the
 * sections stitched under the title → a consistency pass in a loop, checked by a structured
 * verdict, at most three times → a title.
 */
const longDocument: Template = {
  name: 'long_document',
  workflow_type: 'content_generation',
  description:
    'A long document: a JSON outline, every section written in parallel with its siblings’ summaries and a shared glossary, stitched, revised for consistency in a loop, titled.',
  parameters: [
    str('topic', 'What the document is about', true, undefined, 500),
    str('audience', 'Who it is for', false, 'a general audience', 200),
    int('sections', 'How many sections (fixed when the workflow is created)', 2, 20, 5),
    int('words_per_section', 'About how long each section is, in words (fixed at creation)', 50, 2000, 300),
  ],
  example: { topic: 'Tides and the moon', sections: 4 },
  build: (input) => {
    const sections = input.sections as number;
    const sectionTokens = Math.min(8192, Math.ceil((input.words_per_section as number) * 2));
    const short = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
    return [
      {
        id: 'outline',
        type: 'generate',
        name: 'Outline',
        prompt:
          `Plan a long document about {{input.topic}} for {{input.audience}}: its title, a glossary of the key terms it uses ` +
          `(each with a one-sentence definition), and exactly ${sections} sections, each with a heading and a one-sentence summary ` +
          'of what it covers that no other section covers.',
        max_tokens: 2000,
        output_schema: {
          type: 'object',
          properties: {
            title: short(120),
            glossary: {
              type: 'array',
              maxItems: 12,
              items: {
                type: 'object',
                properties: { term: short(60), definition: short(240) },
                required: ['term', 'definition'],
                additionalProperties: false,
              },
            },
            sections: {
              type: 'array',
              minItems: sections,
              maxItems: sections,
              items: {
                type: 'object',
                properties: { heading: short(120), summary: short(240) },
                required: ['heading', 'summary'],
                additionalProperties: false,
              },
            },
          },
          required: ['title', 'glossary', 'sections'],
          additionalProperties: false,
        },
      },
      {
        id: 'sections',
        type: 'map',
        name: 'Sections',
        depends_on: ['outline'],
        items: '{{nodes.outline.output.sections}}',
        concurrency: 4,
        max_items: sections,
        node: {
          type: 'generate',
          max_tokens: sectionTokens,
          prompt:
            'You are writing one section of "{{nodes.outline.output.title}}", a document about {{input.topic}} for {{input.audience}}.\n' +
            'Write section {{index}}: "{{item.heading}}" — {{item.summary}}\n' +
            `About ${input.words_per_section as number} words. Start with the heading as a Markdown "## " heading.\n` +
            'The other sections cover these; do not repeat them: {{nodes.outline.output.sections}}\n' +
            'Use these terms as defined here: {{nodes.outline.output.glossary}}',
        },
      },
      {
        id: 'stitch',
        type: 'transform',
        name: 'Stitched document',
        depends_on: ['sections'],
        source: '# {{nodes.outline.output.title}}\n\n{{nodes.sections.output}}',
        operations: [{ op: 'trim' }],
      },
      {
        id: 'consistency',
        type: 'loop',
        name: 'Consistency pass',
        depends_on: ['stitch'],
        body: ['revise', 'check'],
        max_iterations: 3,
        on_max: 'continue',
        until: { left: '{{nodes.check.output.consistent}}', operator: 'eq', right: 'true' },
      },
      {
        id: 'revise',
        type: 'generate',
        name: 'Revised document',
        depends_on: ['stitch'],
        max_tokens: Math.min(8192, sectionTokens * sections + 200),
        prompt:
          'Revise this document so that its sections read as one: consistent terms (as the glossary defines them), no repetition ' +
          'between sections, transitions where a section starts. Keep every heading and every fact. Reply with the whole document.\n' +
          'Glossary: {{nodes.outline.output.glossary}}\n' +
          'Problems found in the last revision (none on the first pass): {{loop.previous.check.output}}\n' +
          'Last revision (empty on the first pass — then revise the stitched document): {{loop.previous.revise.output}}\n' +
          'Stitched document:\n{{nodes.stitch.output}}',
      },
      {
        id: 'check',
        type: 'generate',
        name: 'Consistency check',
        depends_on: ['revise'],
        max_tokens: 600,
        prompt:
          'Check this document for inconsistent terms (against the glossary), repeated passages and contradictions between ' +
          'sections. Answer whether it is consistent, and list the problems.\nGlossary: {{nodes.outline.output.glossary}}\n' +
          'Document:\n{{nodes.revise.output}}',
        output_schema: {
          type: 'object',
          properties: { consistent: { type: 'boolean' }, problems: { type: 'array', maxItems: 10, items: short(300) } },
          required: ['consistent', 'problems'],
          additionalProperties: false,
        },
      },
      { id: 'title', type: 'title', name: 'Title', depends_on: ['consistency'], source: '{{nodes.revise.output}}', style: 'blog' },
    ];
  },
};

export const TEMPLATES: readonly Template[] = [
  contentGeneration,
  blogSeries,
  summarization,
  translation,
  seoAnalysis,
  documentReview,
  longDocument,
];
export const TEMPLATE_NAMES = TEMPLATES.map((t) => t.name) as [string, ...string[]];
export const WORKFLOW_TYPES = [...new Set(TEMPLATES.map((t) => t.workflow_type))] as [string, ...string[]];

export const findTemplate = (name: string) => TEMPLATES.find((t) => t.name === name);

/** The strict schema of a template's `input_data`, with defaults filled in. */
export function paramsSchema(t: Template) {
  const shape: Record<string, z.ZodType> = {};
  for (const p of t.parameters) {
    let s: z.ZodType =
      p.type === 'string'
        ? z
            .string()
            .min(p.required ? 1 : 0)
            .max(p.max ?? 2000)
        : z
            .number()
            .int()
            .min(p.min ?? 0)
            .max(p.max ?? 1_000_000);
    if (p.default !== undefined) s = s.default(p.default as never);
    shape[p.name] = s;
  }
  return z.strictObject(shape);
}
