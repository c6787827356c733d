import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateWithChain } from '../../src/ai/registry';
import { validateJson } from '../../src/engine/json-schema';
import { api, expectError, registerAndLogin, unique } from '../helpers';

/*
 * Structured output through the whole worker (issue 15): POST /api/v3/ai/generate with an
 * `output_schema`. The openai provider talks to the scripted fake (test/fake-llm.ts), which records
 * the `response_format` it received and answers by model name: json-<tag> valid, json-bad-<tag>
 * not JSON on its first call, json-wrong-<tag> JSON of the wrong shape on its first call. The
 * endpoint reports what came back and does not repair it; repairing is the run engine's job.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('ais'))).token;
});

const schema = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 60 },
    sections: {
      type: 'array',
      minItems: 3,
      items: {
        type: 'object',
        properties: { heading: { type: 'string' }, words: { type: 'integer', minimum: 50 } },
        required: ['heading'],
      },
    },
  },
  required: ['title', 'sections'],
};

type Stats = { calls: number; response_formats: unknown[] };
const stats = async (tag: string): Promise<Stats> => (await fetch(`http://llm.test/stats?tag=${tag}`)).json();
const generate = (body: Record<string, unknown>) => api('POST', '/api/v3/ai/generate', { token, body });

describe('POST /api/v3/ai/generate with output_schema', () => {
  it('sends OpenAI’s response_format json_schema and answers with the JSON, valid against the schema', async () => {
    const tag = unique('js');
    const res = await generate({
      prompt: 'Outline tides',
      provider: 'openai',
      model: `json-${tag}`,
      fallback_providers: [],
      output_schema: schema,
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ provider: 'openai', json_errors: [] });
    expect(validateJson(schema, res.json.json)).toEqual({ valid: true });
    expect(JSON.parse(res.json.text)).toEqual(res.json.json);
    // `words` is optional and not nullable, so strict mode cannot take the schema: strict false, the schema as given.
    const [format] = (await stats(tag)).response_formats;
    expect(format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema, strict: false } });
  });

  it('sends strict: true, with every object closed, when the schema meets strict mode’s rules', async () => {
    const tag = unique('jst');
    const strictable = { type: 'object', properties: { tone: { type: 'string', enum: ['formal', 'casual'] } }, required: ['tone'] };
    const res = await generate({
      prompt: 'Pick a tone',
      provider: 'openai',
      model: `json-${tag}`,
      fallback_providers: [],
      output_schema: strictable,
    });
    expect(res.json).toMatchObject({ json: { tone: 'formal' }, json_errors: [] });
    expect((await stats(tag)).response_formats).toEqual([
      { type: 'json_schema', json_schema: { name: 'output', schema: { ...strictable, additionalProperties: false }, strict: true } },
    ]);
  });

  it('reports an answer that is not JSON, or not of the schema, without failing or repairing it', async () => {
    const bad = unique('jb');
    const notJson = await generate({
      prompt: 'Outline tides',
      provider: 'openai',
      model: `json-bad-${bad}`,
      fallback_providers: [],
      output_schema: schema,
    });
    expect(notJson.status).toBe(200);
    expect(notJson.json).toMatchObject({ json: null, json_errors: [expect.stringMatching(/^the answer is not JSON/)] });
    expect((await stats(bad)).calls).toBe(1);
    const wrong = unique('jw');
    const shape = await generate({
      prompt: 'Outline tides',
      provider: 'openai',
      model: `json-wrong-${wrong}`,
      fallback_providers: [],
      output_schema: schema,
    });
    expect(shape.json.json).toBe('not the object the schema asks for');
    expect(shape.json.json_errors).toEqual([expect.stringMatching(/^\$: /)]);
    // The next call of the same script is answered correctly.
    const again = await generate({
      prompt: 'Outline tides',
      provider: 'openai',
      model: `json-bad-${bad}`,
      fallback_providers: [],
      output_schema: schema,
    });
    expect(again.json.json_errors).toEqual([]);
  });

  it('the local provider fills the schema from the prompt, deterministically (and cached)', async () => {
    const prompt = `Outline an article about ${unique('estuaries')}`;
    const first = await generate({ prompt, provider: 'local', output_schema: schema });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toMatchObject({ provider: 'local', json_errors: [], cached: false });
    expect(first.json.json.sections.length).toBeGreaterThanOrEqual(3);
    const second = await generate({ prompt, provider: 'local', output_schema: schema });
    expect(second.json).toMatchObject({ cached: true, json: first.json.json });
    // Without a schema the same prompt is a plain draft, with no JSON fields.
    const plain = await generate({ prompt, provider: 'local' });
    expect(plain.json).not.toHaveProperty('json');
  });

  it('refuses a schema outside the subset with 400, and one the local provider cannot honour with 503 saying why', async () => {
    expectError(await generate({ prompt: 'x', output_schema: { type: 'string', pattern: '^a' } }), 400, 'validation_error');
    const impossible = await generate({ prompt: 'x', provider: 'local', output_schema: { type: 'string', minLength: 5, maxLength: 2 } });
    expectError(impossible, 503, 'service_unavailable');
    expect(impossible.json.error.details).toMatchObject({ provider: 'local', code: 'bad_request', retryable: false });
    expect(impossible.json.error.message).toMatch(/minLength 5 is above maxLength 2/);
  });
});

describe('the openai provider against the fake, as the run engine calls it', () => {
  const output = { name: 'outline node', schema };
  const ask = (model: string, stream: boolean) =>
    generateWithChain(env, ['openai'], { messages: [{ role: 'user', content: 'Outline tides' }], model, stream, output });

  it('streams a structured answer: the tokens are the JSON text, parsed once complete', async () => {
    const tag = unique('jss');
    const tokens: string[] = [];
    const r = await generateWithChain(
      env,
      ['openai'],
      { messages: [{ role: 'user', content: 'Outline tides' }], model: `json-${tag}`, stream: true, output },
      { onToken: (t) => tokens.push(t) },
    );
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.join('')).toBe(r.text);
    expect(validateJson(schema, r.json)).toEqual({ valid: true });
    expect((await stats(tag)).response_formats).toEqual([
      { type: 'json_schema', json_schema: { name: 'outline_node', schema, strict: false } },
    ]);
  });

  it('json-bad2 answers with text that is not JSON twice, then with JSON: each is a result, never a failure', async () => {
    const tag = unique('jb2');
    const answers = [await ask(`json-bad2-${tag}`, false), await ask(`json-bad2-${tag}`, true), await ask(`json-bad2-${tag}`, false)];
    expect(answers.map((a) => a.jsonError === undefined)).toEqual([false, false, true]);
    expect(answers[0]!.jsonError).toMatch(/^the answer is not JSON/);
    expect(validateJson(schema, answers[2]!.json)).toEqual({ valid: true });
    expect((await stats(tag)).calls).toBe(3);
  });
});
