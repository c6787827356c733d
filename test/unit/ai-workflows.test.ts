import { describe, expect, it } from 'vitest';
import { buildNodes, resolveTemplate } from '../../src/ai-workflows/queries';
import { paramsSchema, TEMPLATES } from '../../src/ai-workflows/templates';
import { NodesSchema } from '../../src/engine';

describe('AI workflow templates', () => {
  it('every template builds a workflow the definition validator accepts', () => {
    expect(TEMPLATES.map((t) => t.name)).toEqual([
      'content_generation',
      'blog_series',
      'summarization',
      'translation',
      'seo_analysis',
      'document_review',
      'long_document',
    ]);
    for (const t of TEMPLATES) {
      const nodes = t.build(paramsSchema(t).parse(t.example));
      const result = NodesSchema.safeParse(nodes);
      expect(result.success, `${t.name}: ${result.error?.message}`).toBe(true);
    }
  });

  it('content generation is outline → draft → edit → title, each on the previous output', () => {
    const t = TEMPLATES.find((x) => x.name === 'content_generation')!;
    const nodes = buildNodes(t, paramsSchema(t).parse({ topic: 'x' }));
    expect(nodes.map((n) => [n.id, n.type, n.depends_on])).toEqual([
      ['outline', 'generate', []],
      ['draft', 'generate', ['outline']],
      ['edit', 'generate', ['draft']],
      ['title', 'title', ['edit']],
    ]);
  });

  it('a blog series chains every post to the one before, at both ends of the allowed size', () => {
    const t = TEMPLATES.find((x) => x.name === 'blog_series')!;
    for (const posts of [2, 10]) {
      const nodes = buildNodes(t, paramsSchema(t).parse({ topic: 'x', posts }));
      expect(nodes).toHaveLength(posts + 1);
      for (let i = 2; i <= posts; i++) {
        const post = nodes.find((n) => n.id === `post_${i}`)!;
        expect(post.depends_on).toEqual([`post_${i - 1}`]);
        expect(post.type === 'generate' && post.prompt).toContain(`{{nodes.post_${i - 1}.output}}`);
      }
      expect(nodes.at(-1)!.depends_on).toHaveLength(posts);
    }
    expect(paramsSchema(t).safeParse({ topic: 'x', posts: 11 }).success).toBe(false);
  });

  it('document review waits for an approval before publishing', () => {
    const t = TEMPLATES.find((x) => x.name === 'document_review')!;
    const nodes = buildNodes(t, paramsSchema(t).parse({ text: 'doc' }));
    const review = nodes.find((n) => n.type === 'approval')!;
    expect(nodes.find((n) => n.id === 'publish')!.depends_on).toEqual([review.id]);
  });

  it('resolves the template and checks its parameters', () => {
    const seed = {
      name: 'n',
      workflow_type: 'content_generation',
      template_name: 'content_generation',
      input_data: { topic: 'AI', prompt: 'p' },
    } as const;
    expect(resolveTemplate(seed).input).toEqual({ topic: 'AI', prompt: 'p', audience: 'a general audience' });
    expect(
      resolveTemplate({ name: 'n', workflow_type: 'translation', input_data: { text: 't', target_language: 'French' } }).template.name,
    ).toBe('translation');
    expect(() => resolveTemplate({ ...seed, input_data: {} })).toThrow('Request validation failed');
    expect(() => resolveTemplate({ ...seed, input_data: { topic: 'x', extra: 1 } })).toThrow('Request validation failed');
    expect(() => resolveTemplate({ ...seed, workflow_type: 'translation' })).toThrow('Request validation failed');
    expect(() => resolveTemplate({ name: 'n', workflow_type: 'nope', input_data: {} })).toThrow('Request validation failed');
  });
});
