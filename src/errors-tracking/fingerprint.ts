/**
 * What makes two unexpected errors "the same": the error's class, its message with the parts
 * that vary between occurrences masked (numbers, ids, quoted values, URLs), the route it happened
 * on, and the top of its stack by function and file (no line or column: a redeploy that moves a
 * line must not split a group). Same fingerprint, same group.
 */

const MAX_MESSAGE = 300;

export function normaliseMessage(message: string): string {
  return message
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b[0-9a-f]{16,}\b/gi, '<hex>')
    .replace(/(["'`])(?:(?!\1).){0,200}\1/g, '<str>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .slice(0, MAX_MESSAGE);
}

/** The first few frames of a V8 stack as `function@file`, locations stripped. */
export function topFrames(stack: string | undefined, frames = 3): string[] {
  return (stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, frames)
    .map((l) =>
      l
        .trim()
        .replace(/^at /, '')
        .replace(/:\d+:\d+\)?$/, '')
        .replace(/\s\(/, '@'),
    );
}

export type ErrorShape = { name: string; message: string; route: string; frames: string[] };

export function describeError(err: unknown, route: string): ErrorShape & { sampleMessage: string; stack: string | null } {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : 'non-Error value thrown');
  return {
    name: e.name || 'Error',
    message: normaliseMessage(e.message),
    route,
    frames: topFrames(e.stack),
    sampleMessage: e.message.slice(0, 2000),
    stack: e.stack?.slice(0, 8000) ?? null,
  };
}

export async function fingerprint(shape: ErrorShape): Promise<string> {
  const key = [shape.name, shape.message, shape.route, ...shape.frames].join('\n');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key));
  return Array.from(new Uint8Array(digest).slice(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
}
