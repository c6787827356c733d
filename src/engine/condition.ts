import type { WorkflowNode } from './definition';
import { compileSafeRegex, SafeRegexError, type SafeRegex } from './safe-regex';
import { NodeError } from './types';

type Condition = Extract<WorkflowNode, { type: 'branch' }>['condition'];

const MAX_PATTERN = 200;
const MAX_SUBJECT = 10_000;

/*
 * `matches` never uses the platform's RegExp: V8's engine backtracks, so a pattern such as
 * ^(a|a)+$ takes exponential time (7.5 s of CPU on 30 characters, blocking the run's object).
 * The pattern is compiled by safe-regex.ts, whose matcher is linear in the subject, with its
 * program size and work bounded; what it cannot run that way (backreferences, lookaround) is
 * refused. Its failures are the definition's fault, so not retryable.
 */
const compiled = new Map<string, SafeRegex>();
const COMPILED_CACHE = 100;

/** The compiled pattern, kept per isolate (patterns are few and compiling is cheap anyway). */
export function branchPattern(pattern: string): SafeRegex {
  if (pattern.length > MAX_PATTERN) throw new NodeError(`branch pattern longer than ${MAX_PATTERN} characters`, false);
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = compileSafeRegex(pattern);
    } catch (err) {
      if (err instanceof SafeRegexError)
        throw new NodeError(`invalid or unsupported branch pattern ${JSON.stringify(pattern)}: ${err.message}`, false);
      throw err;
    }
    if (compiled.size >= COMPILED_CACHE) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re;
}

function matches(pattern: string, subject: string): boolean {
  const re = branchPattern(pattern);
  try {
    return re.test(subject);
  } catch (err) {
    if (err instanceof SafeRegexError) throw new NodeError(`branch pattern exceeded its CPU budget: ${err.message}`, false);
    throw err;
  }
}

/** Evaluates a branch condition on already-rendered operands. */
export function evaluateCondition(op: Condition['operator'], left: string, right: string | number | undefined): boolean {
  const l = left.trim();
  const r = right === undefined ? '' : String(right).trim();
  const num = (s: string) => (s === '' ? Number.NaN : Number(s));
  switch (op) {
    case 'eq':
      return l === r;
    case 'neq':
      return l !== r;
    case 'contains':
      return l.toLowerCase().includes(r.toLowerCase());
    case 'not_contains':
      return !l.toLowerCase().includes(r.toLowerCase());
    case 'gt':
      return num(l) > num(r);
    case 'gte':
      return num(l) >= num(r);
    case 'lt':
      return num(l) < num(r);
    case 'lte':
      return num(l) <= num(r);
    case 'exists':
      return l.length > 0;
    case 'matches':
      return matches(r, l.slice(0, MAX_SUBJECT));
  }
}
