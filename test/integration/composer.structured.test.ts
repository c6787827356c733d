import { beforeAll, describe, expect, it } from 'vitest';
import { validateJson } from '../../src/engine/json-schema';
import { api, createWorkflow, expectError, registerAndLogin, type RunJson, startRun, unique, waitForRun } from '../helpers';

/*
 * Structured output on generate nodes (output_schema). The OpenAI-compatible fake
 * (test/fake-llm.ts) answers json_schema requests with a schema-valid object; its json-bad-,
 * json-bad2- and json-wrong-<tag> models answer wrongly on their first call(s), so the repair
 * path can be watched. The other providers' wire formats are checked against their official SDKs
 * in test/unit/ai-structured.test.ts.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('structured'))).token;
});

type Stats = { calls: number; prompts: string[]; response_formats: ({ type: string; json_schema: Record<string, unknown> } | null)[] };
const stats = async (tag: string): Promise<Stats> => (await fetch(`http://llm.test/stats?tag=${tag}`)).json();

const outlineSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 120 },
    sections: {
      type: 'array',
      minItems: 3,
      maxItems: 6,
      items: {
        type: 'object',
        properties: { heading: { type: 'string' }, points: { type: 'array', items: { type: 'string' }, maxItems: 4 } },
        required: ['heading', 'points'],
        additionalProperties: false,
      },
    },
  },
  required: ['title', 'sections'],
  additionalProperties: false,
};
const settings = { fallback_providers: [] };
const outline = (model: string, extra: Record<string, unknown> = {}) => ({
  id: 'outline',
  type: 'generate',
  provider: 'openai',
  model,
  prompt: 'Outline an article about {{input.topic}}',
  output_schema: outlineSchema,
  retry: { max_attempts: 1 },
  ...extra,
});
const nodeOf = (run: RunJson, id: string) =>
  run.nodes.find((n) => n.id === id)! as RunJson['nodes'][number] & { output: { data: unknown } };

describe('structured output', () => {
  it('a valid answer is stored as data, sent in the native format, and addressable in templates and maps', async () => {
    const tag = unique('valid');
    const next = unique('next');
    const wf = await createWorkflow(token, {
      name: 'outline, then sections',
      settings,
      nodes: [
        outline(`json-${tag}`),
        {
          id: 'second',
          type: 'generate',
          provider: 'openai',
          model: `prompted-${next}`,
          prompt: 'Expand the second section, "{{nodes.outline.output.sections[1].heading}}", of {{nodes.outline.output.title}}',
          depends_on: ['outline'],
        },
        {
          id: 'each',
          type: 'map',
          items: '{{nodes.outline.output.sections}}',
          depends_on: ['outline'],
          node: { type: 'transform', source: '{{index}}: {{item.heading}}', operations: [{ op: 'uppercase' }] },
        },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('succeeded');
    const data = nodeOf(run, 'outline').output.data as { title: string; sections: { heading: string }[] };
    expect(validateJson(outlineSchema, data)).toEqual({ valid: true });
    expect(JSON.parse(nodeOf(run, 'outline').output!.text)).toEqual(data);

    // Sent as OpenAI's json_schema response format, named after the node, strict.
    const s = await stats(tag);
    expect(s.calls).toBe(1);
    expect(s.response_formats[0]).toMatchObject({ type: 'json_schema', json_schema: { name: 'outline', strict: true } });
    expect((s.response_formats[0]!.json_schema as { schema: { required: string[] } }).schema.required).toEqual(['title', 'sections']);

    // Templates index into the data; a map fans out over its list.
    expect((await stats(next)).prompts[0]).toContain(`"${data.sections[1]!.heading}", of ${data.title}`);
    const each = nodeOf(run, 'each').output.data as { items: { text: string }[] };
    expect(each.items.map((i) => i.text)).toEqual(data.sections.map((sec, i) => `${i}: ${sec.heading}`.toUpperCase()));
  });

  it('an answer that is not JSON is repaired once: the model sees its answer and the problems', async () => {
    const tag = unique('bad');
    const wf = await createWorkflow(token, { name: 'repaired', settings, nodes: [outline(`json-bad-${tag}`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('succeeded');
    expect(validateJson(outlineSchema, nodeOf(run, 'outline').output.data)).toEqual({ valid: true });
    const s = await stats(tag);
    expect(s.calls).toBe(2);
    expect(s.prompts[1]).toMatch(/does not match the required JSON Schema:\n- not JSON/);
    // Both calls are one attempt, and both calls' tokens count.
    expect(run.attempts.filter((a) => a.node_id === 'outline')).toHaveLength(1);
    expect((run.attempts[0] as unknown as { tokens_in: number }).tokens_in).toBe(40);
  });

  it('JSON of the wrong shape is repaired with the validation errors', async () => {
    const tag = unique('wrong');
    const wf = await createWorkflow(token, { name: 'wrong shape', settings, nodes: [outline(`json-wrong-${tag}`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('succeeded');
    const s = await stats(tag);
    expect(s.calls).toBe(2);
    expect(s.prompts[1]).toContain('- $: Instance type "string" is invalid. Expected "object".');
  });

  it('invalid twice: the node fails with the problems and is not retried', async () => {
    const tag = unique('bad2');
    const wf = await createWorkflow(token, {
      name: 'fails',
      settings,
      nodes: [outline(`json-bad2-${tag}`, { retry: { max_attempts: 3, initial_delay_ms: 0 } })],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('failed');
    const node = nodeOf(run, 'outline');
    expect(node.status).toBe('failed');
    expect(node.error).toMatch(/^the output does not match output_schema after one repair: not JSON/);
    expect((await stats(tag)).calls).toBe(2);
  });

  it('the local provider answers schema-valid JSON from the prompt’s material', async () => {
    const wf = await createWorkflow(token, {
      name: 'offline outline',
      settings: { provider: 'local', fallback_providers: [] },
      nodes: [{ id: 'outline', type: 'generate', prompt: 'Outline an article about tides and the moon', output_schema: outlineSchema }],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, {})).id);
    expect(run.status).toBe('succeeded');
    expect(validateJson(outlineSchema, nodeOf(run, 'outline').output.data)).toEqual({ valid: true });
    expect(run.attempts[0]!.provider).toBe('local');
  });

  it('a schema outside the subset, or whose root is not an object, is refused at save time', async () => {
    const save = (schema: unknown) =>
      api('POST', '/api/v3/workflows', {
        token,
        body: { name: 'bad schema', nodes: [{ id: 'outline', type: 'generate', prompt: 'x', output_schema: schema }] },
      });
    const pattern = await save({ type: 'object', properties: { a: { type: 'string', pattern: '^(a|a)+$' } } });
    expectError(pattern, 400, 'validation_error');
    expect(pattern.json.error.details[0]).toMatchObject({
      path: ['nodes', 0, 'output_schema', 'properties', 'a', 'pattern'],
      message: expect.stringContaining('"pattern" is not in the supported JSON Schema subset'),
    });
    const list = await save({ type: 'array', items: { type: 'string' } });
    expectError(list, 400, 'validation_error');
    expect(list.json.error.details[0].message).toBe('the root of an output_schema is an object (type: object)');
    expect((await api('GET', '/api/v3/workflows?q=bad%20schema', { token })).json.items).toHaveLength(0);
  });
});
