/**
 * /console/templates.js: built-in workflow definitions the console can create. They are ordinary
 * bodies for POST /api/v3/workflows (see "Workflow definitions" in the README), validated by the
 * API like any other.
 */
import type { NodeDefinition, WorkflowDefinition } from './api-shapes.js';

export type Template = { key: string; label: string; description: string; definition: WorkflowDefinition };

export const TEMPLATES: Template[] = [
  {
    key: 'blog',
    label: 'Blog post: outline → draft → title',
    description:
      'Outlines an article about a topic, writes it from the outline, then titles it. Three documents, each generated from the one before.',
    definition: {
      name: 'Blog post',
      description: 'outline → draft → title',
      nodes: [
        { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
        {
          id: 'draft',
          type: 'generate',
          depends_on: ['outline'],
          prompt: 'Write the article from this outline:\n{{nodes.outline.output}}',
        },
        { id: 'headline', type: 'title', depends_on: ['draft'], style: 'blog' },
      ],
      settings: { concurrency: 2 },
    },
  },
  {
    key: 'summarize',
    label: 'Summarize and analyze',
    description: 'Summarizes a text, analyses its sentiment, keywords and readability, and titles the summary.',
    definition: {
      name: 'Summarize and analyze',
      description: 'summary + analysis → title',
      nodes: [
        { id: 'summary', type: 'summarize', source: '{{input.text}}', max_words: 80 },
        { id: 'analysis', type: 'analyze', source: '{{input.text}}', analyses: ['sentiment', 'keywords', 'readability'] },
        { id: 'headline', type: 'title', depends_on: ['summary'], style: 'news' },
      ],
      settings: { concurrency: 2 },
    },
  },
  {
    key: 'review',
    label: 'Review with approval',
    description: 'Drafts a document about a topic and waits for a person to approve it before summarizing and titling the approved draft.',
    definition: {
      name: 'Review with approval',
      description: 'draft → approval → summary and title',
      nodes: [
        { id: 'draft', type: 'generate', prompt: 'Write a short article about {{input.topic}}' },
        {
          id: 'review',
          type: 'approval',
          depends_on: ['draft'],
          message: 'Approve the draft to publish its summary and title',
          approval_timeout_seconds: 86400,
        },
        { id: 'summary', type: 'summarize', depends_on: ['review'], source: '{{nodes.draft.output}}', max_words: 60 },
        { id: 'headline', type: 'title', depends_on: ['review'], source: '{{nodes.draft.output}}', style: 'catchy' },
      ],
      settings: { concurrency: 2 },
    },
  },
];

/** The run input fields a definition reads through {{input.<field>}}, in order of first use. */
export function inputFields(nodes: NodeDefinition[]): string[] {
  const found: string[] = [];
  const re = /\{\{\s*input\.([A-Za-z0-9_]+)/g;
  let m: RegExpExecArray | null;
  const text = JSON.stringify(nodes);
  while ((m = re.exec(text))) if (m[1] && !found.includes(m[1])) found.push(m[1]);
  return found;
}
