/*
 * What the conformance test (openapi-conformance.test.ts) needs from the OpenAPI document: its
 * operations, a check of one answer against the operation's documented responses, and the
 * smallest body a request schema accepts.
 */
import { Validator } from '@cfworker/json-schema';

export type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  example?: unknown;
  examples?: unknown[];
  format?: string;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
};
type Media = { schema?: Schema };
type Documented = { content?: Record<string, Media>; headers?: Record<string, unknown> };
export type Parameter = { name: string; in: string; required?: boolean; schema?: Schema };
export type Operation = {
  method: string;
  path: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, Documented>;
  security?: unknown[];
  'x-access'?: { roles: string[]; scope: string | null };
};
export type Spec = {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>;
  components: { schemas: Record<string, Schema> };
};

const SPEC_ID = 'https://dwc.test/openapi.json';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** A JSON pointer from its parts, each escaped (`~` → `~0`, `/` → `~1`). */
export const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export function operations(spec: Spec): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ ...op, parameters: op.parameters ?? [], method: method.toUpperCase(), path })),
  );
}

/** Validators for the document's schemas, addressed by JSON pointer into the document. */
export function schemaChecker(spec: Spec) {
  const cache = new Map<string, Validator>();
  return (at: string, value: unknown): string[] => {
    let v = cache.get(at);
    if (!v) {
      v = new Validator({ $ref: `${SPEC_ID}#${at}` }, '2020-12', false);
      v.addSchema(spec as never, SPEC_ID);
      cache.set(at, v);
    }
    const result = v.validate(value);
    return result.valid ? [] : result.errors.filter((e) => e.keyword !== '$ref').map((e) => `${e.instanceLocation} ${e.error}`);
  };
}

export type Answer = { status: number; contentType: string; text: string };

/**
 * Problems with one answer: a status the operation does not document, a content type it does not
 * list for that status, or a JSON body outside that status's schema — and, given the document as
 * `strict`, a field the schema does not declare.
 */
export function conformance(check: ReturnType<typeof schemaChecker>, op: Operation, answer: Answer, strict?: Spec): string[] {
  const status = String(answer.status);
  const documented = op.responses[status] ?? op.responses[`${status[0]}XX`] ?? op.responses.default;
  if (!documented) return [`status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`];
  const types = Object.keys(documented.content ?? {});
  const type = answer.contentType.split(';')[0]!.trim().toLowerCase();
  if (!types.length)
    return answer.text === '' || answer.status === 101 ? [] : [`status ${status} documents no body, got ${type || 'none'}`];
  const listed = types.find((t) => t === type || (t.endsWith('/*') && type.startsWith(t.slice(0, -1))));
  if (!listed) return [`status ${status} answered ${type || 'no content type'}, documented ${types.join(', ')}`];
  if (!/json/.test(listed)) return [];
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return [`status ${status}: the body is not JSON`];
  }
  const key = Object.keys(op.responses).find((k) => op.responses[k] === documented)!;
  const at = `/${pointer('paths', op.path, op.method.toLowerCase(), 'responses', key, 'content', listed, 'schema')}`;
  const extra = strict ? undeclared(strict, documented.content![listed]!.schema ?? {}, body) : [];
  return [...check(at, body), ...extra].map((e) => `status ${status}: ${e}`);
}

/** The schema a `$ref` names, followed until it is not a reference. */
export function resolve(spec: Spec, s: Schema): Schema {
  return s.$ref ? resolve(spec, spec.components.schemas[s.$ref.replace('#/components/schemas/', '')]!) : s;
}

/**
 * The smallest value a schema accepts, built from its own words: an example or default when it
 * gives one, else the first alternative, the required properties only, the shortest string of the
 * right format. `undefined` when the schema asks for something this cannot make up (a pattern).
 */
export function sample(spec: Spec, schema: Schema, depth = 0): unknown {
  const s = resolve(spec, schema);
  if (depth > 12) return undefined;
  if (s.const !== undefined) return s.const;
  if (s.example !== undefined) return s.example;
  if (s.examples?.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum.find((e) => e !== null) ?? s.enum[0];
  const constraintOnly = (a: Schema) => !a.type && !a.$ref;
  // Cross-field rules on an object (anyOfRequired and the like) say which properties go together;
  // the sample takes the object's own properties and the first alternative's required ones.
  if (s.properties && s.allOf?.length) {
    const { allOf, ...rest } = s;
    const kept = allOf.filter((a) => !constraintOnly(a));
    return sample(spec, kept.length ? { ...rest, allOf: kept } : rest, depth + 1);
  }
  const alternatives = s.oneOf ?? s.anyOf;
  // An object whose alternatives only name required properties (anyOfRequired, oneOfRequired):
  // the object with the first alternative's properties.
  if (s.properties && alternatives?.every(constraintOnly)) {
    const { oneOf: _o, anyOf: _a, ...rest } = s;
    return sample(spec, { ...rest, required: [...(s.required ?? []), ...(alternatives[0]!.required ?? [])] }, depth + 1);
  }
  if (alternatives?.length) {
    for (const alt of alternatives) {
      const v = sample(spec, alt, depth + 1);
      if (v !== undefined && v !== null) return v;
    }
    return sample(spec, alternatives[0]!, depth + 1);
  }
  if (s.allOf?.length) {
    const parts = s.allOf.map((p) => sample(spec, p, depth + 1));
    return parts.every((p) => p && typeof p === 'object' && !Array.isArray(p)) ? Object.assign({}, ...parts) : parts[0];
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of s.required ?? []) {
        const v = sample(spec, s.properties?.[name] ?? {}, depth + 1);
        if (v === undefined) return undefined;
        out[name] = v;
      }
      // minProperties: the first optional properties that can be made up.
      for (const [name, prop] of Object.entries(s.properties ?? {})) {
        if (Object.keys(out).length >= (s.minProperties ?? 0)) break;
        const v = name in out ? undefined : sample(spec, prop, depth + 1);
        if (v !== undefined) out[name] = v;
      }
      return out;
    }
    case 'array': {
      if (!s.minItems) return [];
      const item = s.items ? sample(spec, s.items, depth + 1) : 'x';
      return item === undefined ? undefined : Array.from({ length: s.minItems ?? 0 }, () => item);
    }
    case 'string': {
      if (s.pattern) return undefined;
      const byFormat: Record<string, string> = {
        email: 'someone@example.com',
        uri: 'https://example.com/',
        url: 'https://example.com/',
        'date-time': new Date(Date.now() + 86_400_000).toISOString(),
        date: new Date().toISOString().slice(0, 10),
        uuid: '00000000-0000-4000-8000-000000000000',
      };
      return (s.format && byFormat[s.format]) ?? 'x'.repeat(Math.max(1, s.minLength ?? 1));
    }
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return undefined;
  }
}

/**
 * Fields an answer carries that its schema does not declare (JSON Schema lets an object have
 * more properties than it lists, so a validator alone cannot see them). Alternatives are merged:
 * a field counts as declared if any branch declares it; an object open by its schema
 * (`additionalProperties` given, or no `properties`) is not walked.
 */
export function undeclared(spec: Spec, schema: Schema, value: unknown, at = '#'): string[] {
  if (value === null || typeof value !== 'object') return [];
  const s = resolve(spec, schema);
  const branches = [s, ...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])].map((b) => resolve(spec, b));
  if (Array.isArray(value)) {
    const items = branches.find((b) => b.items)?.items;
    return items ? value.flatMap((v, i) => undeclared(spec, items, v, `${at}/${i}`)) : [];
  }
  const objects = branches.filter((b) => b.properties);
  if (!objects.length || branches.some((b) => b.additionalProperties !== undefined && b.additionalProperties !== false)) return [];
  const declared = new Map<string, Schema>();
  for (const b of objects) for (const [name, prop] of Object.entries(b.properties!)) if (!declared.has(name)) declared.set(name, prop);
  return Object.entries(value).flatMap(([name, v]) => {
    const prop = declared.get(name);
    return prop ? undeclared(spec, prop, v, `${at}/${name}`) : [`${at}/${name} is not declared`];
  });
}
