import { z } from '@hono/zod-openapi';
import { ApiError } from './errors';

export const MAX_PAGE_SIZE = 100;

/** `?limit=&cursor=` accepted by every list endpoint. */
export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(20)
    .openapi({ param: { name: 'limit', in: 'query' }, example: 20, description: `Page size, 1–${MAX_PAGE_SIZE}` }),
  cursor: z
    .string()
    .max(128)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: "Opaque cursor from a previous page's `next_cursor`" }),
});

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      items: z.array(item),
      next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }),
    })
    .openapi(name);

/*
 * Cursors are keyset positions (the last row's integer id, newest first), so a page is stable
 * while rows are inserted, unlike OFFSET. They are opaque to clients: base64url of a tiny JSON.
 */
export function encodeCursor(id: number): string {
  return btoa(JSON.stringify({ id })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    const parsed = z.object({ id: z.number().int().positive() }).parse(json);
    return parsed.id;
  } catch {
    throw new ApiError('bad_request', 'Invalid cursor', { details: [{ path: ['cursor'], message: 'not a cursor returned by this API' }] });
  }
}

/** Given up to `limit + 1` rows ordered by id descending, returns the page and the next cursor. */
export function toPage<T extends { id: number }, U>(rows: T[], limit: number, map: (row: T) => U) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(map),
    next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null,
  };
}

const toBase64Url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/**
 * A keyset position for lists sorted by something other than the id: the sort it belongs to, the
 * last row's sort value and its id (the tie-breaker). Opaque to clients like the plain cursor.
 */
export type Keyset = { sort: string; value: string | number; id: number };

export function encodeKeyset(k: Keyset): string {
  return toBase64Url(JSON.stringify({ id: k.id, s: k.sort, v: k.value }));
}

/** Decodes a keyset cursor; one made for another sort (or forged) is refused, as a bad cursor is. */
export function decodeKeyset(cursor: string | undefined, sort: string): Keyset | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ApiError('bad_request', 'Invalid cursor', {
    details: [{ path: ['cursor'], message: 'not a cursor returned by this API for this sort order' }],
  });
  let parsed: { id: number; s: string; v: string | number };
  try {
    const json: unknown = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    parsed = z
      .object({ id: z.number().int().positive(), s: z.string().max(40), v: z.union([z.string().max(400), z.number()]) })
      .parse(json);
  } catch {
    throw invalid;
  }
  if (parsed.s !== sort) throw invalid;
  return { sort: parsed.s, value: parsed.v, id: parsed.id };
}
