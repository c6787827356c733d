import type { ModelInfo } from './catalogue';
import { MODELS } from './models';
import { ProviderError, type GenerateResult, type ProviderName, type StructuredOutput } from './types';

/*
 * Structured output, the parts the adapters share. Each provider has its own native mechanism
 * (the adapters build it; docs/api/ai.md lists them); what they share is:
 * - a root that is not an object travels wrapped: OpenAI's, Anthropic's and Workers AI's JSON
 *   modes take an object at the root (the SDKs refuse anything else), so `{ type: 'array' … }`
 *   is sent as `{ value: <schema> }` and the answer unwrapped. Gemini takes any root as it is;
 * - the answer's text is parsed here, and a text that is not JSON is reported in `jsonError`
 *   rather than thrown: the model answered, and whether to ask again is the caller's decision
 *   (the engine validates against the schema and repairs once);
 * - a model the catalogue says cannot produce structured output is refused before any call,
 *   as a non-retryable `bad_request`, so a fallback chain moves on to the next provider.
 * Schemas are plain JSON values: nothing here mutates the caller's.
 */

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrimitive = (v: unknown) => v === null || typeof v !== 'object';

/** The key a non-object root is wrapped in. */
export const WRAPPER_KEY = 'value';

/** The schema to send to a provider that needs an object root, and whether it was wrapped. */
export function objectRoot(schema: Schema): { schema: Schema; wrapped: boolean } {
  if (schema.type === 'object') return { schema, wrapped: false };
  return {
    schema: { type: 'object', properties: { [WRAPPER_KEY]: schema }, required: [WRAPPER_KEY], additionalProperties: false },
    wrapped: true,
  };
}

/**
 * The `json` / `jsonError` fields of a result: the text parsed (and unwrapped) when `output` was
 * asked for, nothing otherwise. A single Markdown code fence around the JSON, which some
 * OpenAI-compatible servers add, is tolerated; `text` keeps the answer as it came.
 */
export function structuredFields(
  output: StructuredOutput | undefined,
  text: string,
  wrapped: boolean,
): Pick<GenerateResult, 'json' | 'jsonError'> {
  if (!output) return {};
  const body = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(text)?.[1] ?? text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { jsonError: text.trim() === '' ? 'the answer is empty' : `the answer is not JSON (${reason.slice(0, 120)})` };
  }
  if (!wrapped) return { json: value };
  if (isObject(value) && WRAPPER_KEY in value) return { json: value[WRAPPER_KEY] };
  return { jsonError: `the answer lacks the "${WRAPPER_KEY}" object the request wrapped the schema in` };
}

/**
 * Refuses structured output for a model the catalogue says cannot produce it. A model the
 * catalogue does not know is tried (an OpenAI-compatible server or a new model may well
 * support it, and will say so if not), except on Workers AI, where JSON mode is per model.
 */
export function requireStructuredSupport(provider: ProviderName, info: ModelInfo, model: string): void {
  if (info.capabilities.structuredOutput || (!info.known && provider !== 'workers-ai')) return;
  const able = MODELS.filter((m) => m.provider === provider && m.capabilities.structuredOutput && !m.retires).map((m) => m.model);
  const choose = able.length > 0 ? `choose ${able.slice(0, 3).join(', ')}` : 'choose another provider';
  throw new ProviderError(
    provider,
    'bad_request',
    `${provider}: model ${model} does not support structured output; ${choose} (or correct the catalogue with AI_MODELS)`,
    false,
  );
}

/** OpenAI's rule for a response format's name: letters, digits, `_` and `-`, at most 64. */
export const formatName = (name: string) => name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'output';

// The openai SDK's isNullable for the subset: no type or a type admitting null, and no
// enum or const that excludes null.
const nullable = (s: Schema) =>
  (s.type === undefined || s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null'))) &&
  (!('const' in s) || s.const === null) &&
  (s.enum === undefined || (Array.isArray(s.enum) && s.enum.includes(null)));

/**
 * The schema in the form OpenAI's strict mode takes, or undefined when strict mode cannot take
 * it. These are the rules the openai SDK's `toStrictJsonSchema` applies (openai 6.49.0,
 * lib/transform): every object closed (`additionalProperties` absent, then set to false, or
 * false already), every property required unless it accepts null (then it is listed as required
 * and answered with null), `required` naming only declared properties, every array with `items`.
 */
export function openaiStrictSchema(schema: Schema): Schema | undefined {
  const out: Schema = { ...schema };
  if (Array.isArray(out.type) && out.type.length === 1) out.type = out.type[0];
  const { type } = out;
  const objectShape =
    type === 'object' ||
    (Array.isArray(type) && type.includes('object')) ||
    (type === undefined && ['properties', 'required', 'additionalProperties'].some((k) => k in out));
  if (objectShape) {
    if (out.additionalProperties === undefined) out.additionalProperties = false;
    else if (out.additionalProperties !== false) return undefined;
  }
  const required = Array.isArray(out.required) ? (out.required as unknown[]) : [];
  const properties = isObject(out.properties) ? out.properties : undefined;
  if (objectShape && required.some((key) => typeof key !== 'string' || !properties || !(key in properties))) return undefined;
  if (properties) {
    const strict: Schema = {};
    for (const [key, sub] of Object.entries(properties)) {
      if (!isObject(sub) || (!required.includes(key) && !nullable(sub))) return undefined;
      const inner = openaiStrictSchema(sub);
      if (!inner) return undefined;
      strict[key] = inner;
    }
    out.properties = strict;
    out.required = Object.keys(properties);
  }
  const isArray = type === 'array' || (Array.isArray(type) && type.includes('array'));
  if (isArray && out.items === undefined) return undefined;
  if (isObject(out.items)) {
    const items = openaiStrictSchema(out.items);
    if (!items) return undefined;
    out.items = items;
  }
  return out;
}

/**
 * The schema in the form Anthropic's structured outputs take (`output_config.format`), as the
 * @anthropic-ai/sdk 1.17.0 helper `jsonSchemaOutputFormat` transforms it (lib/transform-json-
 * schema): objects closed (`additionalProperties: false`, whatever was asked), `minItems` only 0
 * or 1, and the constraints the API does not enforce (lengths, value bounds, `maxItems`, larger
 * `minItems`) moved into the description as `{minLength: 3, …}`, so the model still reads them
 * and the caller's validation still checks them. Every schema needs a `type`, `enum` or `const`.
 */
export function anthropicSchema(schema: Schema, path = '$'): Schema {
  const rest: Schema = { ...schema };
  const out: Schema = {};
  const take = (key: string) => {
    const value = rest[key];
    delete rest[key];
    return value;
  };
  if (Array.isArray(rest.enum) && rest.enum.length > 0 && rest.enum.every(isPrimitive)) out.enum = take('enum');
  if (rest.const !== undefined && isPrimitive(rest.const)) out.const = take('const');
  const literals = 'enum' in out || 'const' in out;
  const declared = take('type');
  const type = literals ? undefined : declared;
  if (!literals) {
    if (type === undefined)
      throw new ProviderError('anthropic', 'bad_request', `anthropic: structured output needs a type, enum or const at ${path}`, false);
    out.type = type;
  }
  const description = take('description');
  if (description !== undefined) out.description = description;
  const title = take('title');
  if (title !== undefined) out.title = title;
  if (type === 'object') {
    const properties = take('properties');
    out.properties = Object.fromEntries(
      Object.entries(isObject(properties) ? properties : {}).map(([key, sub]) => [key, anthropicSchema(sub as Schema, `${path}.${key}`)]),
    );
    take('additionalProperties');
    out.additionalProperties = false;
    const required = take('required');
    if (required !== undefined) out.required = required;
  } else if (type === 'array') {
    const items = take('items');
    if (items !== undefined) out.items = anthropicSchema(items as Schema, `${path}[]`);
    const minItems = take('minItems');
    if (minItems === 0 || minItems === 1) out.minItems = minItems;
    else if (minItems !== undefined) rest.minItems = minItems;
  }
  const left = Object.entries(rest);
  if (left.length > 0) {
    const note = `{${left.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(', ')}}`;
    out.description = typeof out.description === 'string' && out.description ? `${out.description}\n\n${note}` : note;
  }
  return out;
}
