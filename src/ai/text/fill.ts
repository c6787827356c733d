/**
 * Structured output for the local provider: a value that satisfies a JSON Schema (the subset
 * workflow definitions use), filled with the prompt's own material. It is a structural filler,
 * not a model's answer: nothing in it is inferred or invented. Strings are the material's
 * headings, list items, sentences and key phrases (a title-like property gets a heading or the
 * topic, a descriptive one a sentence, a keyword list key phrases); with no material, the section
 * scaffolds of the drafting templates, which describe what a section is for. An array has one item
 * per section of the material (its headings, else its list items, else its key phrases), and an
 * array inside a section one item per sentence of that section, within minItems and maxItems; a
 * section's values use only its own sentences. An enum takes its first value that fits, a number
 * the least its bounds allow (plus the item's index, inside the bounds), a boolean true. The same
 * prompt and schema always give the same value.
 *
 * A schema no value can satisfy (minLength above maxLength, an integer between 0.2 and 0.8, a
 * required property that `additionalProperties: false` forbids …) or one outside the subset
 * (pattern, $ref …) is refused with a SchemaRefusal that says where and why.
 */
import { detectLanguage } from './language';
import { documentKind, splitInstruction, topicOf } from './prompt';
import { SCAFFOLDS } from './scaffolds';
import { stopwordsFor } from './stopwords';
import { keyPhrases, titleCase } from './title';
import { type Block, hashString, markdownBlocks, normalizedWords, pick, splitSentences, truncateAtWord, words } from './tokenize';

export class SchemaRefusal extends Error {
  override name = 'SchemaRefusal';
}

type Schema = Record<string, unknown>;
/** A section of the material: its heading (or phrase), the same in running text, and its sentences. */
type Unit = { label: string; about: string; details: string[] };
type Material = { topic: string; title: string; units: Unit[]; sentences: string[]; phrases: string[] };
type Scope = {
  path: string;
  /** The property (or, for an item, its array's property) the value is for: it hints at what text fits. */
  hint: string;
  /** The section an array item stands for, inherited by everything inside it. */
  unit?: Unit | undefined;
  index: number;
  /** The value is itself an item of an array of sections. */
  sectionItem: boolean;
};
type State = { material: Material; values: number; used: Set<string>; cursor: number };

const SUBSET = new Set([
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
const TITLE_HINT = /title|heading|headline|name|label|topic|subject|caption/i;
const PHRASE_HINT = /keyword|tag|term|phrase|concept/i;
const TEXT_HINT = /summary|description|body|content|text|paragraph|sentence|point|bullet|note|detail|abstract|intro|conclusion|reason/i;
/** Items of an array of sections, unless minItems asks for more. */
const UNIT_ITEMS = 8;
/** Items of an array inside a section: its sentences not used yet, at most this many. */
const NESTED_ITEMS = 3;
/** Sections made from key phrases, for material with neither headings nor list items. */
const PHRASE_SECTIONS = 5;
const MAX_ITEMS = 1_000;
const MAX_VALUES = 10_000;
const MAX_LENGTH = 20_000;

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const length = (s: string) => [...s].length;
// Lower-cases a leading capital unless the first word looks like a name or acronym (two capitals).
const lowerFirst = (s: string) => (/^\p{Lu}\p{Ll}/u.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);

function refuse(path: string, reason: string): never {
  throw new SchemaRefusal(`cannot fill the schema at ${path}: ${reason}`);
}

/** The prompt read as drafting reads it: an instruction naming the topic, and material after it. */
function materialOf(prompt: string): Material {
  let { instruction, material } = splitInstruction(prompt);
  if (!instruction && !material.includes('\n') && words(material).length <= 12) [instruction, material] = [material, ''];
  const blocks = markdownBlocks(material);
  const language = detectLanguage(material).code;
  const phrases = material ? keyPhrases(material, UNIT_ITEMS, { minShare: 0, language }) : [];
  const opening = blocks[0]?.kind === 'heading' && blocks[0].depth === 1 ? blocks[0].text : undefined;
  const topic = topicOf(instruction) ?? opening ?? phrases[0] ?? (instruction || 'the topic');
  const sentences = blocks.flatMap((b) => (b.kind === 'paragraph' ? splitSentences(b.text) : b.kind === 'item' ? [b.text] : []));
  const stop = stopwordsFor(language);
  const content = (text: string) => new Set(normalizedWords(text).filter((w) => !stop.has(w)));
  let units = unitsOf(blocks, phrases);
  for (const unit of units) {
    if (unit.details.length > 0) continue;
    const label = content(unit.label);
    unit.details = sentences.filter((s) => s !== unit.label && [...content(s)].some((w) => label.has(w)));
  }
  // Key phrases stand for sections only where the material says something about them.
  if (!blocks.some((b) => b.kind !== 'paragraph')) units = units.filter((u) => u.details.length > 0).slice(0, PHRASE_SECTIONS);
  if (units.length === 0) {
    // No material to arrange: the drafting scaffolds, which say what each section is for.
    const kind = documentKind(instruction);
    const fill = (t: string) => t.replaceAll('{t}', topic).replaceAll('{T}', titleCase(topic)).replaceAll('{k}', kind);
    units = pick(SCAFFOLDS, hashString(prompt), 1).map((step) => {
      const label = fill(step.heading);
      return { label, about: lowerFirst(label), details: [fill(step.body)] };
    });
  }
  return {
    topic,
    title: opening ?? titleCase(topic),
    units,
    sentences: sentences.length > 0 ? sentences : units.flatMap((u) => u.details),
    phrases: phrases.length > 0 ? phrases : [topic],
  };
}

/** Sections: the material's headings (a leading title aside), else its list items, else its key phrases. */
function unitsOf(blocks: Block[], phrases: string[]): Unit[] {
  const headings = blocks.filter((b) => b.kind === 'heading');
  if (headings.length > 0) {
    const units: Unit[] = [];
    const title = headings.length > 1 && blocks[0]?.kind === 'heading' && blocks[0].depth === 1 ? blocks[0] : undefined;
    for (const block of blocks) {
      if (block === title) continue;
      if (block.kind === 'heading') units.push({ label: block.text, about: lowerFirst(block.text), details: [] });
      else units.at(-1)?.details.push(...(block.kind === 'paragraph' ? splitSentences(block.text) : [block.text]));
    }
    return units;
  }
  const items = blocks.filter((b) => b.kind === 'item');
  if (items.length > 0) return items.map((b) => ({ label: b.text, about: lowerFirst(b.text), details: [] }));
  return phrases.map((p) => ({ label: titleCase(p), about: p, details: [] }));
}

/** The first entry of `list` not used yet, marked used. */
function fresh(state: State, list: string[]): string | undefined {
  const found = list.find((s) => !state.used.has(s));
  if (found !== undefined) state.used.add(found);
  return found;
}

function textFor(state: State, scope: Scope): string {
  const { material } = state;
  const { unit, hint } = scope;
  if (PHRASE_HINT.test(hint)) return material.phrases[scope.index % material.phrases.length] ?? material.topic;
  if (unit && scope.sectionItem && !TEXT_HINT.test(hint)) return unit.label;
  if (TITLE_HINT.test(hint)) return unit ? unit.label : material.title;
  // Inside a section only its own sentences are used, so no section takes another's.
  if (unit) return fresh(state, unit.details) ?? `This section covers ${unit.about}.`;
  return fresh(state, material.sentences) ?? material.sentences[state.cursor++ % material.sentences.length] ?? material.topic;
}

function stringValue(state: State, schema: Schema, scope: Scope): string {
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  if (max !== undefined && min > max) refuse(scope.path, `minLength ${min} is above maxLength ${max}`);
  if (min > MAX_LENGTH) refuse(scope.path, `minLength ${min} is more text than the local provider writes (${MAX_LENGTH})`);
  if (max === 0) return '';
  let text = textFor(state, scope).trim();
  const pool = state.material.sentences;
  while (length(text) < min) {
    const more = fresh(state, pool) ?? pool[state.cursor++ % pool.length] ?? state.material.topic;
    text = text ? `${text} ${more}` : more || 'the topic';
  }
  if (max === undefined || length(text) <= max) return text;
  const cut = truncateAtWord(text, max);
  return length(cut) >= min && length(cut) <= max ? cut : [...text].slice(0, max).join('');
}

function numberValue(schema: Schema, scope: Scope, integer: boolean): number {
  let lo = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  let hi = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  if (integer) {
    lo = lo === undefined ? undefined : Math.ceil(lo);
    hi = hi === undefined ? undefined : Math.floor(hi);
  }
  if (lo !== undefined && hi !== undefined && lo > hi)
    refuse(scope.path, `no ${integer ? 'integer' : 'number'} lies between ${String(schema.minimum)} and ${String(schema.maximum)}`);
  const base = lo ?? (hi !== undefined && hi < 0 ? hi : 0);
  const value = base + scope.index;
  return hi !== undefined && value > hi ? base : value;
}

function objectValue(state: State, schema: Schema, scope: Scope): Record<string, unknown> {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : [];
  const undeclared = required.filter((key) => !(key in properties));
  if (schema.additionalProperties === false && undeclared.length > 0)
    refuse(scope.path, `${undeclared.join(', ')} required but not declared, and additionalProperties is false`);
  const out: Record<string, unknown> = {};
  const inner = (key: string): Scope => ({ ...scope, path: `${scope.path}.${key}`, hint: key, sectionItem: false });
  for (const [key, sub] of Object.entries(properties)) {
    try {
      out[key] = value(state, sub, inner(key));
    } catch (err) {
      // An optional property no value can satisfy is left out; a required one cannot be.
      if (!(err instanceof SchemaRefusal) || required.includes(key)) throw err;
    }
  }
  for (const key of undeclared) out[key] = value(state, {}, inner(key));
  return out;
}

function arrayValue(state: State, schema: Schema, scope: Scope): unknown[] {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : undefined;
  if (max !== undefined && min > max) refuse(scope.path, `minItems ${min} is above maxItems ${max}`);
  if (min > MAX_ITEMS) refuse(scope.path, `minItems ${min} is more items than the local provider writes (${MAX_ITEMS})`);
  const { units, phrases } = state.material;
  const sections = scope.unit === undefined;
  const preferred = PHRASE_HINT.test(scope.hint)
    ? Math.min(phrases.length, UNIT_ITEMS)
    : sections
      ? Math.min(units.length, UNIT_ITEMS)
      : Math.min((scope.unit?.details ?? []).filter((d) => !state.used.has(d)).length, NESTED_ITEMS);
  const count = Math.max(min, Math.min(preferred, max ?? Number.POSITIVE_INFINITY));
  const items = isObject(schema.items) ? schema.items : {};
  return Array.from({ length: count }, (_, i) =>
    value(state, items, {
      path: `${scope.path}[${i}]`,
      hint: scope.hint,
      unit: sections ? units[i % units.length] : scope.unit,
      index: i,
      sectionItem: sections,
    }),
  );
}

/** Whether a scalar (an enum value or const) satisfies the rest of its schema. */
function fits(v: unknown, schema: Schema): boolean {
  const types = schema.type === undefined ? undefined : ([] as unknown[]).concat(schema.type);
  const kind = v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v;
  if (types && !types.includes(kind) && !(kind === 'integer' && types.includes('number'))) return false;
  if (typeof v === 'string') {
    if (typeof schema.minLength === 'number' && length(v) < schema.minLength) return false;
    if (typeof schema.maxLength === 'number' && length(v) > schema.maxLength) return false;
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum) return false;
    if (typeof schema.maximum === 'number' && v > schema.maximum) return false;
  }
  return true;
}

/** The types to try, in order: as declared (null last), or what the keywords imply. */
function typesOf(schema: Schema, path: string): string[] {
  if (schema.type === undefined) {
    if (['properties', 'required', 'additionalProperties'].some((k) => k in schema)) return ['object'];
    return ['items', 'minItems', 'maxItems'].some((k) => k in schema) ? ['array'] : ['string'];
  }
  const declared = ([] as unknown[]).concat(schema.type);
  const known = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
  const odd = declared.find((t) => typeof t !== 'string' || !known.includes(t));
  if (odd !== undefined || declared.length === 0) refuse(path, `unknown type ${JSON.stringify(odd ?? declared)}`);
  return [...declared.filter((t) => t !== 'null'), ...declared.filter((t) => t === 'null')] as string[];
}

function value(state: State, schema: unknown, scope: Scope): unknown {
  if (!isObject(schema)) return refuse(scope.path, 'a schema is an object');
  const outside = Object.keys(schema).filter((k) => !SUBSET.has(k));
  if (outside.length > 0) refuse(scope.path, `${outside.join(', ')} is outside the JSON Schema subset the local provider honours`);
  if (++state.values > MAX_VALUES) refuse(scope.path, `the schema asks for more than ${MAX_VALUES} values`);
  if ('const' in schema) return fits(schema.const, schema) ? schema.const : refuse(scope.path, 'const does not satisfy its own schema');
  if (Array.isArray(schema.enum)) {
    const at = schema.enum.findIndex((v) => fits(v, schema));
    return at >= 0 ? schema.enum[at] : refuse(scope.path, 'no enum value satisfies the rest of the schema');
  }
  let refusal: SchemaRefusal | undefined;
  for (const type of typesOf(schema, scope.path)) {
    try {
      if (type === 'null') return null;
      if (type === 'boolean') return true;
      if (type === 'number' || type === 'integer') return numberValue(schema, scope, type === 'integer');
      if (type === 'string') return stringValue(state, schema, scope);
      return type === 'object' ? objectValue(state, schema, scope) : arrayValue(state, schema, scope);
    } catch (err) {
      if (!(err instanceof SchemaRefusal)) throw err;
      refusal = err;
    }
  }
  throw refusal ?? new SchemaRefusal(`cannot fill the schema at ${scope.path}`);
}

/**
 * A value satisfying `schema`, built from the prompt's material; throws SchemaRefusal for a
 * schema it cannot honour.
 *
 * @example
 * fillSchema('Outline an article about solar power', {
 *   type: 'object', required: ['sections'],
 *   properties: { sections: { type: 'array', minItems: 3, items: { type: 'object',
 *     properties: { title: { type: 'string' }, summary: { type: 'string' } } } } },
 * });
 * // { sections: [{ title: 'What solar power is', summary: 'This section sets out what solar power means …' }, …] }
 */
export function fillSchema(prompt: string, schema: Record<string, unknown>): unknown {
  const state: State = { material: materialOf(prompt), values: 0, used: new Set(), cursor: 0 };
  return value(state, schema, { path: '$', hint: '', index: 0, sectionItem: false });
}
