import { describe, expect, it } from 'vitest';
import { JSON_LIMITS, jsonObject, jsonProblem, jsonTextProblem } from '../../src/lib/json';

/** `{"a":{"a":…}}` nested `n` deep, built without recursion. */
function deep(n: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < n; i++) v = { a: v };
  return v;
}

describe('bounded JSON (issue 17, finding 6)', () => {
  it('measures depth, size and values without recursing, even 100,000 deep', () => {
    expect(jsonProblem(deep(32))).toBeNull();
    expect(jsonProblem(deep(33))).toBe('nested deeper than 32 levels');
    expect(jsonProblem(deep(100_000))).toBe('nested deeper than 32 levels');
    expect(jsonProblem([[[[1]]]], { ...JSON_LIMITS, maxDepth: 3 })).toBe('nested deeper than 3 levels');
    expect(jsonProblem({ s: 'x'.repeat(300_000) })).toBe(`larger than ${JSON_LIMITS.maxBytes} bytes`);
    expect(jsonProblem(Array.from({ length: 30_000 }, () => 0))).toBe(`more than ${JSON_LIMITS.maxValues} values`);
    expect(jsonProblem({ s: 'a\0b' })).toMatch(/NUL/);
    expect(jsonProblem({ n: Number.POSITIVE_INFINITY })).toMatch(/not finite/);
  });

  it('counts size as the compact serialisation does, in UTF-8 bytes', () => {
    for (const v of [{}, [], { a: 1, b: [true, null, 'é😀'] }, { ключ: 'значение', n: -1.5e-7 }]) {
      const exact = new TextEncoder().encode(JSON.stringify(v)).length;
      expect(jsonProblem(v, { ...JSON_LIMITS, maxBytes: exact })).toBeNull();
      expect(jsonProblem(v, { ...JSON_LIMITS, maxBytes: exact - 1 })).toMatch(/larger than/);
    }
  });

  it('is a schema that answers with the limits', () => {
    const parsed = jsonObject().safeParse(deep(40));
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toMatch(/JSON nested deeper than 32 levels/);
    expect(jsonObject({ maxBytes: 10 }).safeParse({ a: 'too long a string' }).success).toBe(false);
  });

  it('checks JSON text for depth and NUL escapes in one pass', () => {
    expect(jsonTextProblem(`${'['.repeat(64)}${']'.repeat(64)}`)).toBeNull();
    expect(jsonTextProblem('['.repeat(1_000_000))).toMatch(/deeper than 64/);
    expect(jsonTextProblem('{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')).toBeNull();
    expect(jsonTextProblem('{"a":"x\\u0000y"}')).toMatch(/NUL/);
    expect(jsonTextProblem('{"a":"x\\\\u0000y"}')).toBeNull(); // an escaped backslash, then text
  });
});
