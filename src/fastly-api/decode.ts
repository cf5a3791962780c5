// Reading successful JSON answers: small shape checks (no schema library, to keep the wasm
// small) and cursor pagination. A 2xx answer of the wrong shape is an upstream failure, not a
// crash deeper in the core.
import { TskError } from '../core/errors.js';
import type { ApiRequest, ApiResponse, Transport } from './http.js';

/** Raised by decoders; turned into an `upstream_failed` error naming the request. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

/** A decoder of one JSON answer. */
export type Decoder<T> = (value: unknown) => T;

/** The value as an object, or a ShapeError naming `what`. */
export function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ShapeError(`${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** The value as an array, or a ShapeError naming `what`. */
export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(`${what} is not an array`);
  return value;
}

/** A required string field. */
export function stringField(record: Record<string, unknown>, name: string): string {
  const value = record[name];
  if (typeof value !== 'string') throw new ShapeError(`field "${name}" is not a string`);
  return value;
}

/** An optional string field: null when absent or null. */
export function optionalString(record: Record<string, unknown>, name: string): string | null {
  const value = record[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ShapeError(`field "${name}" is not a string`);
  return value;
}

/** Decodes a 2xx JSON answer already received; a wrong shape becomes `upstream_failed`. */
export function decodeResponse<T>(
  transport: Transport,
  req: ApiRequest,
  res: ApiResponse,
  decode: Decoder<T>,
): T {
  let value: unknown;
  try {
    value = JSON.parse(res.text);
  } catch {
    throw transport.malformed(req, res, 'is not JSON');
  }
  try {
    return decode(value);
  } catch (err) {
    if (err instanceof ShapeError)
      throw transport.malformed(req, res, `is malformed: ${err.message}`);
    throw err;
  }
}

/** Sends the request and decodes its 2xx JSON answer; `expect`ed statuses resolve undefined. */
export async function requestDecoded<T>(
  transport: Transport,
  req: ApiRequest,
  decode: Decoder<T>,
): Promise<T | undefined> {
  const res = await transport.send(req);
  if (res.status < 200 || res.status >= 300) return undefined;
  return decodeResponse(transport, req, res, decode);
}

/** Like `requestDecoded` for requests whose every answer must be a 2xx. */
export async function requestOk<T>(
  transport: Transport,
  req: ApiRequest,
  decode: Decoder<T>,
): Promise<T> {
  const value = await requestDecoded(transport, { ...req, expect: [] }, decode);
  // Unreachable: without `expect`, send() throws on every non-2xx status.
  if (value === undefined) throw new TskError('internal', 'missing decoded answer');
  return value;
}

/** One page of a `{"data":[...],"meta":{"next_cursor"}}` listing. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Decodes Fastly's `{"data":[...],"meta":{"next_cursor"?}}` pages with an item decoder. */
export function pageDecoder<T>(item: Decoder<T>): Decoder<Page<T>> {
  return (value) => {
    const body = asRecord(value, 'answer');
    const items = asArray(body['data'], 'data').map((entry) => item(entry));
    const meta = body['meta'] === undefined ? {} : asRecord(body['meta'], 'meta');
    const next = optionalString(meta, 'next_cursor');
    return { items, nextCursor: next === '' ? null : next };
  };
}

/** Follows `next_cursor` until the last page; a cursor seen twice is an upstream failure. */
export async function collectPages<T>(
  transport: Transport,
  pageRequest: (cursor: string | undefined) => ApiRequest,
  decode: Decoder<Page<T>>,
): Promise<T[]> {
  const all: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const req = pageRequest(cursor);
    const page = await requestOk(transport, req, decode);
    all.push(...page.items);
    if (page.nextCursor === null) return all;
    if (seen.has(page.nextCursor)) {
      throw new TskError('upstream_failed', `Fastly API repeated a page cursor for ${req.path}`, {
        details: { method: req.method, path: req.path },
      });
    }
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
