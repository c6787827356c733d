import { z } from '@hono/zod-openapi';

/*
 * Free-form JSON from clients (run inputs, task payloads, schedule targets, automation data,
 * metadata) is bounded in depth, size and number of values before anything is stored or sent
 * on. Unbounded, it broke things far from where it came in: an input nested 5,000 deep (35 KB)
 * passed validation, was written to D1, and then overflowed the stack when the Durable Object
 * RPC serialised it — a 500, and a run row whose object never started. Every walk here is
 * iterative, so measuring a hostile value cannot overflow the stack itself.
 */
export type JsonLimits = { maxDepth: number; maxBytes: number; maxValues: number };

/** Depth 32, 256 KiB serialised, 20,000 values: far beyond what a person or an integration sends. */
export const JSON_LIMITS: JsonLimits = { maxDepth: 32, maxBytes: 256 * 1024, maxValues: 20_000 };

/** Bytes of a string as JSON.stringify writes it (quotes and escapes included), in UTF-8, without building it. */
function jsonStringBytes(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92) n += 2;
    else if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff)
      n += 6; // a lone surrogate is written as \uXXXX
    else n += 3;
  }
  return n;
}

/**
 * Why a parsed JSON value exceeds the limits (or holds what JSON text cannot carry faithfully:
 * a NUL character, a non-finite number), or null when it is within them. Sizes are of the
 * compact serialisation, in UTF-8 bytes.
 *
 * @example jsonProblem({ a: [1, 2] }) === null; jsonProblem(deep(40)) === 'nested deeper than 32 levels'
 */
export function jsonProblem(value: unknown, limits: JsonLimits = JSON_LIMITS): string | null {
  const stack: [unknown, number][] = [[value, 0]];
  let values = 0;
  let bytes = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (++values > limits.maxValues) return `more than ${limits.maxValues} values`;
    if (typeof v === 'string') {
      if (v.includes('\0')) return 'a string holds a NUL character';
      bytes += jsonStringBytes(v);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'a number is not finite';
      bytes += String(v).length;
    } else if (v === null || v === true) bytes += 4;
    else if (v === false) bytes += 5;
    else if (typeof v === 'object') {
      if (depth + 1 > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
      if (Array.isArray(v)) {
        bytes += 2 + Math.max(0, v.length - 1);
        for (const item of v) stack.push([item, depth + 1]);
      } else {
        const entries = Object.entries(v);
        bytes += 2 + Math.max(0, entries.length - 1);
        for (const [k, item] of entries) {
          if (k.includes('\0')) return 'a key holds a NUL character';
          bytes += jsonStringBytes(k) + 1;
          stack.push([item, depth + 1]);
        }
      }
    } else return `holds a value JSON cannot carry (${typeof v})`;
    if (bytes > limits.maxBytes) return `larger than ${limits.maxBytes} bytes`;
  }
  return null;
}

const check =
  (limits: JsonLimits) =>
  (value: unknown, ctx: z.RefinementCtx): void => {
    const problem = jsonProblem(value, limits);
    if (problem) ctx.addIssue({ code: 'custom', message: `JSON ${problem} (limits: depth ${limits.maxDepth}, ${limits.maxBytes} bytes)` });
  };

/**
 * A free-form JSON object, bounded (JSON_LIMITS unless given): the one schema every free-form
 * object in a request body uses. Over the limits is a 400 naming the field.
 *
 * @example const Body = z.strictObject({ input: jsonObject().default({}) });
 */
export const jsonObject = ({ maxKeyLength = 200, ...limits }: Partial<JsonLimits> & { maxKeyLength?: number } = {}) =>
  z.record(z.string().max(maxKeyLength), z.unknown()).superRefine(check({ ...JSON_LIMITS, ...limits }));

/** Any JSON value, bounded like jsonObject. */
export const jsonValue = (limits: Partial<JsonLimits> = {}) => z.unknown().superRefine(check({ ...JSON_LIMITS, ...limits }));

/** The depth past which no request body is parsed into a handler at all (src/lib/middleware.ts). */
export const BODY_MAX_DEPTH = 64;

/**
 * Checks JSON text before it is parsed: nesting depth (counted on the text, so a body of a
 * million brackets costs one pass and no stack) and `\u0000` escapes, which would put a NUL
 * character into a stored string. Null when acceptable; malformed JSON is left to the parser.
 */
export function jsonTextProblem(text: string, maxDepth = BODY_MAX_DEPTH): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) {
        if (text.startsWith('u0000', i + 1)) return 'a string holds a NUL character (\\u0000)';
        i++;
      } else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return `JSON nested deeper than ${maxDepth} levels`;
    } else if (c === 125 || c === 93) depth--;
  }
  return null;
}
