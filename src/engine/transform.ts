import { render, type TemplateContext } from './template';
import type { WorkflowNode } from './definition';

type Op = Extract<WorkflowNode, { type: 'transform' }>['operations'][number];

/** Markdown to plain text: headings, emphasis, code fences, links and list markers removed. */
export function stripMarkdown(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, (block) => block.replace(/```\w*\n?/g, ''))
    .replace(/^#{1,6}\s+/gm, '')
    .replace(/^\s*[-*+]\s+/gm, '')
    .replace(/^\s*\d+\.\s+/gm, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.*?)\1/g, '$2')
    .replace(/(\*|_)(.*?)\1/g, '$2')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/^>\s?/gm, '');
}

/** Applies the operations in order; every one is deterministic. */
export function applyTransform(source: string, ops: Op[], ctx: TemplateContext): string {
  let text = source;
  for (const op of ops) {
    switch (op.op) {
      case 'uppercase':
        text = text.toUpperCase();
        break;
      case 'lowercase':
        text = text.toLowerCase();
        break;
      case 'trim':
        text = text.trim();
        break;
      case 'strip_markdown':
        text = stripMarkdown(text);
        break;
      case 'replace':
        text = op.all ? text.split(op.find).join(op.replace) : text.replace(op.find, op.replace);
        break;
      case 'truncate':
        text = [...text].slice(0, op.max_chars).join('');
        break;
      case 'prepend':
        text = render(op.text, ctx) + text;
        break;
      case 'append':
        text = text + render(op.text, ctx);
        break;
    }
  }
  return text;
}
