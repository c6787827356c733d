import type { WorkflowNode } from './definition';
import { NodeError } from './types';

type Condition = Extract<WorkflowNode, { type: 'branch' }>['condition'];

const MAX_PATTERN = 200;
const MAX_SUBJECT = 10_000;

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
    case 'matches': {
      // Bounded pattern and subject lengths keep a hostile regular expression's cost bounded.
      if (r.length > MAX_PATTERN) throw new NodeError(`branch pattern longer than ${MAX_PATTERN} characters`, false);
      try {
        return new RegExp(r, 'u').test(l.slice(0, MAX_SUBJECT));
      } catch {
        throw new NodeError(`invalid branch pattern: ${r}`, false);
      }
    }
  }
}
