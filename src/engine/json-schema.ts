import { Validator } from '@cfworker/json-schema';
import { z } from '@hono/zod-openapi';

/*
 * JSON Schema, as workflow definitions use it: the shape of a generate node's structured output
 * and of the payload a wait_for_event node accepts. Only a documented subset (docs/engine.md) is
 * accepted, so every schema can be honoured by each provider's structured-output mode and checked
 * in linear time: no $ref, no pattern (a user regular expression), at most 8 levels deep. Values
 * are checked with @cfworker/json-schema, which interprets schemas instead of compiling code
 * (Workers forbid runtime code generation).
 */

const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'items',
  'enum',
  'const',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'additionalProperties',
  'description',
  'title',
]);
const MAX_DEPTH = 8;
const MAX_PROPERTIES = 100;

type Problem = { path: (string | number)[]; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

/** What is wrong with a schema under the subset's rules; empty when it is accepted. */
export function schemaProblems(schema: unknown, path: (string | number)[] = [], depth = 1): Problem[] {
  if (!isObject(schema)) return [{ path, message: 'a JSON Schema is an object' }];
  if (depth > MAX_DEPTH) return [{ path, message: `schemas nest at most ${MAX_DEPTH} levels` }];
  const out: Problem[] = [];
  for (const [key, value] of Object.entries(schema)) {
    const at = [...path, key];
    if (!KEYWORDS.has(key)) {
      out.push({ path: at, message: `"${key}" is not in the supported JSON Schema subset (${[...KEYWORDS].join(', ')})` });
      continue;
    }
    if (key === 'type') {
      const types = Array.isArray(value) ? value : [value];
      if (!types.length || types.some((t) => !(TYPES as readonly unknown[]).includes(t)))
        out.push({ path: at, message: `one of ${TYPES.join(', ')}, or a list of them` });
    } else if (key === 'properties') {
      if (!isObject(value)) out.push({ path: at, message: 'an object of property schemas' });
      else if (Object.keys(value).length > MAX_PROPERTIES) out.push({ path: at, message: `at most ${MAX_PROPERTIES} properties` });
      else for (const [name, sub] of Object.entries(value)) out.push(...schemaProblems(sub, [...at, name], depth + 1));
    } else if (key === 'items') {
      out.push(...schemaProblems(value, at, depth + 1));
    } else if (key === 'required') {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) out.push({ path: at, message: 'a list of property names' });
    } else if (key === 'enum') {
      if (!Array.isArray(value) || !value.length || value.length > 200 || !value.every(isScalar))
        out.push({ path: at, message: 'a list of 1 to 200 strings, numbers, booleans or nulls' });
    } else if (key === 'const') {
      if (!isScalar(value)) out.push({ path: at, message: 'a string, number, boolean or null' });
    } else if (['minLength', 'maxLength', 'minItems', 'maxItems'].includes(key)) {
      if (!isCount(value)) out.push({ path: at, message: 'a whole number, 0 or more' });
    } else if (key === 'minimum' || key === 'maximum') {
      if (typeof value !== 'number' || !Number.isFinite(value)) out.push({ path: at, message: 'a number' });
    } else if (key === 'additionalProperties') {
      if (typeof value !== 'boolean') out.push({ path: at, message: 'true or false' });
    } else if (typeof value !== 'string' || value.length > 2000) {
      out.push({ path: at, message: 'a text of at most 2000 characters' });
    }
  }
  return out;
}

/** A JSON Schema in the supported subset (checked, not interpreted, by zod: the document shows an object). */
export const JsonSchemaSubset = z
  .record(z.string(), z.unknown())
  .superRefine((schema, ctx) => {
    for (const p of schemaProblems(schema)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  })
  .openapi('JsonSchema', { description: 'A JSON Schema (draft 2020-12) in the subset docs/engine.md lists', example: { type: 'object' } });

/** Checks a value against a schema of the subset; the problems read like `$.sections[2].title: …`. */
export function validateJson(schema: Record<string, unknown>, value: unknown): { valid: true } | { valid: false; errors: string[] } {
  const result = new Validator(schema as ConstructorParameters<typeof Validator>[0], '2020-12', false).validate(value);
  if (result.valid) return { valid: true };
  // The leaf errors say what is wrong; the wrapping "properties"/"items" errors only repeat where.
  const leaves = result.errors.filter((e) => !['properties', 'items', 'allOf', '$ref'].includes(e.keyword));
  const errors = (leaves.length ? leaves : result.errors).map(
    (e) => `${e.instanceLocation.replace(/^#/, '$').replace(/\//g, '.')}: ${e.error}`,
  );
  return { valid: false, errors: [...new Set(errors)].slice(0, 20) };
}
