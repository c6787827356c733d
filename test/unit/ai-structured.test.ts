import { describe, expect, it } from 'vitest';
import { formatName, objectRoot, openaiStrictSchema, structuredFields } from '../../src/ai/structured';

/*
 * The parts of structured output the adapters share (src/ai/structured.ts). How each provider's
 * request is shaped is compared with its SDK in test/node/ai-contracts-structured.test.ts.
 */

const output = { name: 'x', schema: { type: 'object' } };

describe('structuredFields', () => {
  it('parses the text, or says why it is not JSON; nothing when no output was asked for', () => {
    expect(structuredFields(undefined, '{"a":1}', false)).toEqual({});
    expect(structuredFields(output, '{"a":1}', false)).toEqual({ json: { a: 1 } });
    expect(structuredFields(output, 'null', false)).toEqual({ json: null });
    expect(structuredFields(output, '  ', false)).toEqual({ jsonError: 'the answer is empty' });
    expect(structuredFields(output, 'Sure! {"a":1}', false).jsonError).toMatch(/^the answer is not JSON \(/);
  });

  it('tolerates one Markdown code fence around the JSON, as some compatible servers send it', () => {
    expect(structuredFields(output, '```json\n{"a":1}\n```', false)).toEqual({ json: { a: 1 } });
    expect(structuredFields(output, '```\n[1,2]\n```\n', false)).toEqual({ json: [1, 2] });
  });

  it('unwraps a wrapped root, and says so when the answer is not in the wrapper', () => {
    expect(structuredFields(output, '{"value":[1,2]}', true)).toEqual({ json: [1, 2] });
    expect(structuredFields(output, '[1,2]', true)).toEqual({
      jsonError: 'the answer lacks the "value" object the request wrapped the schema in',
    });
  });
});

describe('the schema sent', () => {
  it('wraps a root that is not an object, and leaves an object root alone', () => {
    const list = { type: 'array', items: { type: 'string' } };
    expect(objectRoot(list)).toEqual({
      schema: { type: 'object', properties: { value: list }, required: ['value'], additionalProperties: false },
      wrapped: true,
    });
    expect(objectRoot({ type: 'object' })).toEqual({ schema: { type: 'object' }, wrapped: false });
  });

  it("follows strict mode's rules: closed objects, every property required unless nullable, items on arrays", () => {
    const nullable = { type: 'object', properties: { a: { type: ['string', 'null'] } } };
    expect(openaiStrictSchema(nullable)).toEqual({ ...nullable, required: ['a'], additionalProperties: false });
    expect(openaiStrictSchema({ type: 'object', properties: { a: { type: 'string' } } })).toBeUndefined();
    expect(openaiStrictSchema({ type: 'object', additionalProperties: true })).toBeUndefined();
    expect(openaiStrictSchema({ type: 'object', properties: { a: { type: 'array' } }, required: ['a'] })).toBeUndefined();
    expect(openaiStrictSchema({ type: 'object', properties: {}, required: ['ghost'] })).toBeUndefined();
    expect(formatName('outline node #1 ✓')).toBe('outline_node__1__');
    expect(formatName('')).toBe('output');
  });
});
