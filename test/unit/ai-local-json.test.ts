import { describe, expect, it } from 'vitest';
import { LocalProvider } from '../../src/ai/local';
import { createProvider, generateWithChain } from '../../src/ai/registry';
import { fillSchema, SchemaRefusal } from '../../src/ai/text/fill';
import { ProviderError, type GenerateRequest } from '../../src/ai/types';
import { schemaProblems, validateJson } from '../../src/engine/json-schema';
import { env } from 'cloudflare:test';

/*
 * The local provider's structured output: a structural filler that satisfies the schema with the
 * prompt's own material. Every value is checked with the validator the engine uses
 * (src/engine/json-schema.ts), for schemas that exercise each keyword of the subset.
 */

const MATERIAL = [
  'Write an outline from these notes:',
  '# Home solar',
  '## Costs',
  'Solar panels cost less every year. Installation is the largest part of the bill.',
  '## Storage',
  'Batteries store surplus electricity for the night.',
  '## Grid',
  'Grid operators plan for rooftop solar. Net metering pays for exported power.',
].join('\n');
const TOPIC = 'Outline an article about community gardens';

const outline = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 5, maxLength: 80 },
    sections: {
      type: 'array',
      minItems: 3,
      maxItems: 6,
      items: {
        type: 'object',
        properties: {
          heading: { type: 'string' },
          summary: { type: 'string', maxLength: 200 },
          points: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
          order: { type: 'integer', minimum: 1 },
        },
        required: ['heading', 'summary', 'points', 'order'],
        additionalProperties: false,
      },
    },
  },
  required: ['title', 'sections'],
  additionalProperties: false,
};

const SCHEMAS: [string, Record<string, unknown>][] = [
  ['a nested outline', outline],
  [
    'enums, consts, numbers and booleans within their bounds',
    {
      type: 'object',
      properties: {
        tone: { type: 'string', enum: ['formal', 'casual'] },
        short: { type: 'string', enum: ['a', 'bb', 'ccc'], minLength: 2 },
        version: { const: 2 },
        score: { type: 'number', minimum: 0.5, maximum: 0.75 },
        level: { type: 'integer', minimum: -3.5, maximum: -1 },
        count: { type: 'integer', maximum: -10 },
        draft: { type: 'boolean' },
        nothing: { type: 'null' },
        maybe: { type: ['string', 'null'], maxLength: 10 },
      },
      required: ['tone', 'short', 'version', 'score', 'level', 'count', 'draft', 'nothing', 'maybe'],
    },
  ],
  ['an array root', { type: 'array', items: { type: 'string', minLength: 3 }, minItems: 2 }],
  ['a string root with exact length', { type: 'string', minLength: 12, maxLength: 12 }],
  ['keywords from the material', { type: 'object', properties: { keywords: { type: 'array', items: { type: 'string' } } } }],
  ['required names without properties, and no type', { required: ['anything'], properties: {} }],
  [
    'arrays inside arrays',
    {
      type: 'object',
      properties: {
        grid: { type: 'array', minItems: 2, items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer', maximum: 5 } } },
      },
      required: ['grid'],
    },
  ],
  ['a long minLength', { type: 'object', properties: { body: { type: 'string', minLength: 600 } }, required: ['body'] }],
];

describe('fillSchema', () => {
  it.each(SCHEMAS)('fills %s with a value the schema accepts, from material or from a topic alone', (_, schema) => {
    expect(schemaProblems(schema)).toEqual([]);
    for (const prompt of [MATERIAL, TOPIC]) {
      const value = fillSchema(prompt, schema);
      expect(validateJson(schema, value)).toEqual({ valid: true });
    }
  });

  it('is deterministic: the same prompt and schema give the same value', () => {
    for (const [, schema] of SCHEMAS) expect(fillSchema(MATERIAL, schema)).toEqual(fillSchema(MATERIAL, schema));
  });

  it("builds an outline from the material's sections, reusing its words verbatim", () => {
    const value = fillSchema(MATERIAL, outline) as { title: string; sections: { heading: string; summary: string; order: number }[] };
    expect(value.sections.map((s) => s.heading)).toEqual(['Costs', 'Storage', 'Grid']);
    expect(value.sections.map((s) => s.order)).toEqual([1, 2, 3]);
    expect(value.sections[1]!.summary).toBe('Batteries store surplus electricity for the night.');
    expect(value.title).toBe('Home solar');
  });

  it('builds an outline of a topic alone from the drafting scaffolds, which only say what each section is for', () => {
    const value = fillSchema(TOPIC, outline) as { sections: { heading: string; summary: string }[] };
    expect(value.sections).toHaveLength(5);
    expect(value.sections.map((s) => s.heading).join(' ')).toMatch(/community gardens/i);
    for (const s of value.sections) expect(s.summary).toMatch(/section|part|article|community gardens/i);
  });

  it.each([
    ['minLength above maxLength', { type: 'string', minLength: 5, maxLength: 2 }, /\$: minLength 5 is above maxLength 2/],
    ['no integer in the bounds', { type: 'integer', minimum: 0.2, maximum: 0.8 }, /no integer lies between 0.2 and 0.8/],
    ['minItems above maxItems', { type: 'array', minItems: 3, maxItems: 1 }, /minItems 3 is above maxItems 1/],
    ['an enum that its own bounds exclude', { type: 'string', enum: ['a'], minLength: 2 }, /no enum value/],
    ['a const of the wrong type', { type: 'string', const: 3 }, /const does not satisfy/],
    [
      'a required property that additionalProperties forbids',
      { type: 'object', properties: {}, required: ['x'], additionalProperties: false },
      /x required but not declared/,
    ],
    ['a keyword outside the subset', { type: 'string', pattern: '^a+$' }, /pattern is outside the JSON Schema subset/],
    ['a required nested property it cannot fill', outlineWith({ type: 'integer', minimum: 2, maximum: 1 }), /\$\.sections\[0\]\.order/],
  ])('refuses %s, saying where and why', (_, schema, message) => {
    expect(() => fillSchema(MATERIAL, schema as Record<string, unknown>)).toThrow(SchemaRefusal);
    expect(() => fillSchema(MATERIAL, schema as Record<string, unknown>)).toThrow(message);
  });

  it('leaves out an optional property it cannot fill, and fills the type a union allows', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer', minimum: 1, maximum: 0 } } };
    expect(fillSchema(MATERIAL, schema)).toEqual({ a: expect.any(String) });
    expect(fillSchema(MATERIAL, { type: ['integer', 'null'], minimum: 1, maximum: 0 })).toBeNull();
  });
});

function outlineWith(order: Record<string, unknown>) {
  const sections = outline.properties.sections;
  return {
    ...outline,
    properties: {
      ...outline.properties,
      sections: { ...sections, items: { ...sections.items, properties: { ...sections.items.properties, order } } },
    },
  };
}

describe('LocalProvider with output', () => {
  const provider = new LocalProvider();
  const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
    messages: [{ role: 'user', content }],
    output: { name: 'outline', schema: outline },
    ...extra,
  });

  it('answers with the JSON text and the parsed value; streamed, the chunks are the text', async () => {
    const tokens: string[] = [];
    const result = await provider.generate(ask(MATERIAL, { stream: true, maxTokens: 5 }), { onToken: (t) => tokens.push(t) });
    expect(result.json).toEqual(JSON.parse(result.text));
    expect(validateJson(outline, result.json)).toEqual({ valid: true });
    expect(tokens.join('')).toBe(result.text);
    // JSON cut at maxTokens would be of no use: it is not cut.
    expect(result.finishReason).toBe('stop');
    expect(result.jsonError).toBeUndefined();
  });

  it('refuses a schema it cannot honour as a bad request that no retry can help', async () => {
    const err = await provider
      .generate(ask(MATERIAL, { output: { name: 'x', schema: { type: 'string', minLength: 3, maxLength: 1 } } }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ provider: 'local', code: 'bad_request', retryable: false });
    expect((err as Error).message).toMatch(/^local: cannot fill the schema at \$: minLength 3 is above maxLength 1/);
  });

  it('is cached with its JSON, keyed by the schema too', async () => {
    const first = await generateWithChain(env, ['local'], ask(MATERIAL));
    const again = await generateWithChain(env, ['local'], ask(MATERIAL));
    expect(again.cached).toBe(true);
    expect(again.json).toEqual(first.json);
    const plain = await generateWithChain(env, ['local'], { messages: [{ role: 'user', content: MATERIAL }] });
    expect(plain.json).toBeUndefined();
    const other = await generateWithChain(env, ['local'], ask(MATERIAL, { output: { name: 'x', schema: { type: 'array', items: {} } } }));
    expect(Array.isArray(other.json)).toBe(true);
    expect(createProvider('local', env).name).toBe('local');
  });
});
