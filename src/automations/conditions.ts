import type { ConditionExpr } from './schemas';

/*
 * Conditions and parameter templates are data, never code: a condition is a small JSON tree
 * walked here, and a template only looks values up by path. Nothing a user stores is evaluated.
 */

/** What conditions and templates see: the trigger data, the caller's context, the event, earlier action outputs. */
export type Scope = {
  trigger: Record<string, unknown>;
  context: Record<string, unknown>;
  event: Record<string, unknown>;
  actions: { output: unknown }[];
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value at a dotted path (`trigger.priority`, `actions.0.output.text`), or undefined. */
export function lookup(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const key of path.split('.')) {
    if (Array.isArray(v) && /^\d+$/.test(key)) v = v[Number(key)];
    else if (isObject(v) && Object.hasOwn(v, key)) v = v[key];
    else return undefined;
  }
  return v;
}

const isExpr = (c: unknown): c is ConditionExpr =>
  isObject(c) &&
  (Array.isArray(c.all) || Array.isArray(c.any) || isObject(c.not) || (typeof c.path === 'string' && typeof c.op === 'string'));

function compare(op: string, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case 'exists':
      return actual !== undefined && actual !== null;
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'in':
      return Array.isArray(expected) && expected.includes(actual as never);
    case 'contains':
      if (typeof actual === 'string' && typeof expected === 'string') return actual.includes(expected);
      return Array.isArray(actual) && actual.includes(expected);
    default: {
      // Ordering only between two numbers or two strings; anything else is simply false.
      if (!((typeof actual === 'number' && typeof expected === 'number') || (typeof actual === 'string' && typeof expected === 'string')))
        return false;
      if (op === 'gt') return actual > expected;
      if (op === 'gte') return actual >= expected;
      if (op === 'lt') return actual < expected;
      return actual <= expected;
    }
  }
}

/**
 * Whether the conditions hold. Undefined conditions always hold. An equality map compares each
 * key (a path into the trigger data) with its value; an expression walks its tree over the scope.
 */
export function conditionsHold(conditions: unknown, scope: Scope): boolean {
  if (conditions === undefined || conditions === null) return true;
  if (isExpr(conditions)) return evaluate(conditions, scope);
  if (!isObject(conditions)) return false;
  return Object.entries(conditions).every(([path, value]) => lookup(scope.trigger, path) === value);
}

function evaluate(e: ConditionExpr, scope: Scope): boolean {
  if ('all' in e) return e.all.every((x) => evaluate(x, scope));
  if ('any' in e) return e.any.some((x) => evaluate(x, scope));
  if ('not' in e) return !evaluate(e.not, scope);
  return compare(e.op, lookup(scope, e.path), e.value);
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const asText = (v: unknown) =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);

/**
 * Fills a string: `{{path}}` looks a path up in the scope (`{{actions.0.output.text}}`,
 * `{{trigger.topic}}`) and fails when it is missing; `{name}` (the seed's style) is a trigger
 * data field, replaced only when the trigger data has it, so other braces pass through.
 */
export function renderText(text: string, scope: Scope): string {
  const doubled = text.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_, path: string) => {
    const v = lookup(scope, path);
    if (v === undefined)
      throw new TemplateError(`{{${path}}} names nothing: no such trigger field, context field or earlier action output`);
    return asText(v);
  });
  return doubled.replace(/(?<!\{)\{([A-Za-z0-9_]+)\}(?!\})/g, (whole, name: string) =>
    Object.hasOwn(scope.trigger, name) ? asText(scope.trigger[name]) : whole,
  );
}

/** Renders every string inside a parameters object (keys are left alone). */
export function renderDeep<T>(value: T, scope: Scope): T {
  if (typeof value === 'string') return renderText(value, scope) as T;
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, scope)) as T;
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, scope)])) as T;
  return value;
}
