import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { graphIssues, NodeSchema, NodesSchema, templateRefs, type WorkflowNode } from '../../src/engine';

// Syntax only; the graph checks under test run separately.
const parse = (nodes: unknown[]) => z.array(NodeSchema).parse(nodes);
const gen = (id: string, prompt = 'p', depends_on: string[] = []) => ({ id, type: 'generate', prompt, depends_on });

describe('templateRefs', () => {
  it('finds dotted references with or without spaces', () => {
    expect(templateRefs('a {{input.topic}} b {{ nodes.x.output }} {{run.id}}')).toEqual([
      ['input', 'topic'],
      ['nodes', 'x', 'output'],
      ['run', 'id'],
    ]);
  });
});

describe('graphIssues', () => {
  it('accepts a diamond with references to transitive ancestors', () => {
    const nodes = parse([
      gen('a'),
      gen('b', '{{nodes.a.output}}', ['a']),
      gen('c', '{{nodes.a.output}}', ['a']),
      gen('d', '{{nodes.a.output}} {{nodes.b.output}} {{nodes.c.output}}', ['b', 'c']),
    ]);
    expect(graphIssues(nodes)).toEqual([]);
  });

  it('reports a cycle once, naming its nodes, and not the nodes that merely come before it', () => {
    const issues = graphIssues(parse([gen('root'), gen('x', 'p', ['root', 'z']), gen('y', 'p', ['x']), gen('z', 'p', ['y'])]));
    expect(issues).toEqual([{ path: ['nodes'], message: 'dependency cycle among: x, y, z' }]);
  });

  it('reports references to siblings and descendants as not upstream', () => {
    const issues = graphIssues(parse([gen('a', '{{nodes.b.output}}'), gen('b', 'p', ['a']), gen('c', '{{nodes.b.output}}')]));
    expect(issues.map((i) => i.message)).toEqual([
      'template refers to node "b", which is not upstream of "a"; add it to depends_on',
      'template refers to node "b", which is not upstream of "c"; add it to depends_on',
    ]);
  });

  it('points at the exact field of a transform operation', () => {
    const nodes = parse([
      gen('a'),
      { id: 't', type: 'transform', depends_on: ['a'], operations: [{ op: 'trim' }, { op: 'append', text: '{{nodes.zz.output}}' }] },
    ]);
    expect(graphIssues(nodes)[0]).toMatchObject({ path: ['nodes', 1, 'operations', 1, 'text'] });
  });

  it('handles a long chain without recursion problems', () => {
    const nodes = parse(
      Array.from({ length: 100 }, (_, i) =>
        gen(`n${i}`, i ? `{{nodes.n${i - 1}.output}} {{nodes.n0.output}}` : 'start', i ? [`n${i - 1}`] : []),
      ),
    );
    expect(graphIssues(nodes)).toEqual([]);
  });

  it('fills defaults: depends_on, retry policy and analyses', () => {
    const [a, b] = parse([
      { id: 'a', type: 'generate', prompt: 'p', retry: {} },
      { id: 'b', type: 'analyze' },
    ]) as [Extract<WorkflowNode, { type: 'generate' }>, Extract<WorkflowNode, { type: 'analyze' }>];
    expect(a.retry).toEqual({ max_attempts: 3, backoff: 'exponential', initial_delay_ms: 1000, max_delay_ms: 60000, jitter: true });
    expect(b.depends_on).toEqual([]);
    expect(b.analyses).toEqual(['sentiment', 'keywords', 'readability', 'language', 'quality']);
  });
});

describe('NodesSchema', () => {
  it('runs the graph checks as part of validation, with paths relative to the list', () => {
    const result = NodesSchema.safeParse([gen('a', 'p', ['b']), gen('b', 'p', ['a'])]);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/cycle/);
  });
});
