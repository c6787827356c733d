import { describe, expect, it } from 'vitest';
import { evaluateCondition } from '../../src/engine/condition';
import { compileSafeRegex, SafeRegexError } from '../../src/engine/safe-regex';
import { NodeError } from '../../src/engine/types';

/*
 * Issue 17, finding 5: a branch `matches` condition runs in time linear in the subject. The
 * matcher must agree with JavaScript's RegExp (u flag) wherever both accept a pattern, and finish
 * on the patterns that make a backtracking engine take exponential time.
 */

/** A small deterministic generator, so a failure can be reproduced. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PATTERNS = [
  'abc',
  '^abc$',
  'a|b|cd',
  '^(a|b)*c$',
  'a+b?c*',
  'x{2}',
  'x{2,}',
  'x{1,3}y',
  '^\\d{3}-\\d{4}$',
  '\\bcat\\b',
  '\\Bat',
  '[a-c]+',
  '[^a-c]+$',
  '[\\d\\s]+',
  '[\\w-]+@[\\w-]+\\.\\w+',
  '(?:ab)+',
  '(?<word>\\w+) \\w+',
  '^$',
  '.',
  '^.{3}$',
  'a.c',
  '\\.',
  '[.]',
  '\\u0041',
  '\\u{1F600}',
  '\\x41+',
  '(a|ab)(c|bcd)(d*)',
  '(a*)*b',
  '((a|b)*)*c',
  'é+',
  '[\\-a]',
  '[a\\-z]',
  '\\t|\\n',
  '^(yes|no|maybe)$',
  'colou?r',
  'a{0}b',
  '()',
  'a||b',
];
const ALPHABET = ['a', 'b', 'c', 'd', 'x', 'y', '1', '2', ' ', '-', '.', '@', 'é', '😀', 'A', '\n', 'cat', 'at'];

describe('the safe matcher agrees with RegExp', () => {
  it('on every pattern of the list, for 300 random subjects each', () => {
    const next = rng(17);
    for (const pattern of PATTERNS) {
      const ours = compileSafeRegex(pattern);
      const theirs = new RegExp(pattern, 'u');
      for (let k = 0; k < 300; k++) {
        const len = Math.floor(next() * 12);
        const subject = Array.from({ length: len }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('');
        expect(ours.test(subject), `${pattern} on ${JSON.stringify(subject)}`).toBe(theirs.test(subject));
      }
    }
  });

  it('refuses what RegExp refuses, and what needs backtracking', () => {
    for (const bad of ['(', ')', '[a', 'a**', '*a', 'a{2,1}', '{', ']', '\\', '\\q', '^*', '[z-a]']) {
      expect(() => new RegExp(bad, 'u'), bad).toThrow();
      expect(() => compileSafeRegex(bad), bad).toThrow(SafeRegexError);
    }
    for (const unsupported of ['(a)\\1', '(?=a)b', '(?!a)b', '(?<=a)b', '(?<!a)b', '\\p{L}', '\\k<x>'])
      expect(() => compileSafeRegex(unsupported), unsupported).toThrow(SafeRegexError);
    expect(() => compileSafeRegex('(a{1000}){1000}')).toThrow(/too complex/);
  });
});

describe('linear time', () => {
  const subject = `${'a'.repeat(30)}b`;

  it('answers the exponential patterns at once', () => {
    const cases: [string, boolean][] = [
      ['^(a|a)+$', false],
      ['^(a+)+$', false],
      ['^(a|aa)+$', false],
      ['(a*)*$', true],
      ['^(\\w+\\s?)*$', true],
      ['(x+x+)+y', false],
    ];
    for (const [pattern, expected] of cases) {
      const started = performance.now();
      const long = `${'a'.repeat(5000)}!`;
      expect(compileSafeRegex(pattern).test(subject), pattern).toBe(expected);
      compileSafeRegex(pattern).test(long);
      expect(performance.now() - started, pattern).toBeLessThan(1000);
    }
  });

  it('a branch condition with ^(a|a)+$ on 30 characters finishes within a fixed budget (was 7.5 s)', () => {
    const started = performance.now();
    expect(evaluateCondition('matches', subject, '^(a|a)+$')).toBe(false);
    expect(evaluateCondition('matches', 'a'.repeat(30), '^(a|a)+$')).toBe(true);
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('stops a test past its step budget with a non-retryable node error', () => {
    expect(() => compileSafeRegex('(a|b|c|d)*e').test('abcd'.repeat(1000), 1000)).toThrow(SafeRegexError);
    let err: unknown;
    try {
      evaluateCondition('matches', 'x', '(a)\\1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NodeError);
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/backreferences are not supported/) });
  });
});
