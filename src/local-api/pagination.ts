// Cursor pagination as Fastly's resource APIs do it: `?cursor=&limit=`, answered with
// `"meta":{"limit", "next_cursor"?}`; `next_cursor` is absent on the last page. Cursors are
// opaque; Fastly's KV cursors are a base64 protobuf holding the last key (`CgdiYXRjaC0y` is field
// 1 = "batch-2"), and the same encoding is used here for every listing.
import { badRequest } from './errors.js';
import { compareUtf8 } from './model.js';

/** Encodes a cursor pointing after `lastKey`. */
export function encodeCursor(lastKey: string): string {
  const key = Buffer.from(lastKey, 'utf8');
  const length: number[] = [];
  let n = key.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...length]), key]).toString('base64');
}

/** Decodes a cursor made by `encodeCursor`; anything else is a 400. */
export function decodeCursor(cursor: string): string {
  const invalid = badRequest('Invalid cursor');
  const bytes = Buffer.from(cursor, 'base64');
  if (bytes.toString('base64') !== cursor || bytes[0] !== 0x0a) throw invalid;
  let length = 0;
  let shift = 0;
  let at = 1;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined || shift > 21) throw invalid;
    length |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  if (at + length !== bytes.length) throw invalid;
  return bytes.subarray(at).toString('utf8');
}

/** The `limit` query parameter: a whole number from 1 to `max`, or `fallback` when absent. */
export function parseLimit(query: URLSearchParams, fallback: number, max: number): number {
  const text = query.get('limit');
  if (text === null || text === '') return fallback;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > max) {
    throw badRequest(`Invalid limit: must be a whole number from 1 to ${max}`);
  }
  return limit;
}

/** One page of `items` (any order), sorted by `keyOf` as UTF-8, after the query's cursor. */
export function paginate<T>(
  items: Iterable<T>,
  keyOf: (item: T) => string,
  query: URLSearchParams,
  limit: number,
): { page: T[]; nextCursor: string | undefined } {
  const cursor = query.get('cursor');
  const after = cursor === null || cursor === '' ? undefined : decodeCursor(cursor);
  const sorted = [...items].sort((a, b) => compareUtf8(keyOf(a), keyOf(b)));
  const rest =
    after === undefined ? sorted : sorted.filter((i) => compareUtf8(keyOf(i), after) > 0);
  const page = rest.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor =
    rest.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : undefined;
  return { page, nextCursor };
}

/** `{"limit", "next_cursor"?}`: the `meta` member of a listing. */
export function pageMeta(limit: number, nextCursor: string | undefined): Record<string, unknown> {
  return nextCursor === undefined ? { limit } : { limit, next_cursor: nextCursor };
}
