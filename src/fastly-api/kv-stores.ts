// KV stores and keys through the management API, with generations for compare-and-set (the
// edge cannot see generations). Values travel raw; `Generation` is a header on reads only (a
// write answers 200 without it), and is a 64-bit unsigned integer, so it stays decimal text:
// a JS number loses exactness past 2^53.
import { TskError } from '../core/errors.js';
import { decodeStore } from './config-stores.js';
import type { StoreRef } from './config-stores.js';
import { collectPages, pageDecoder, requestOk } from './decode.js';
import { apiPath } from './http.js';
import type { ApiRequest, Transport } from './http.js';

/** A KV entry with its generation and metadata. */
export interface KvEntry {
  value: string;
  /** Changes on every write; the handle for `if-generation-match` (exact decimal text). */
  generation: string;
  /** The entry's metadata, or null when it has none. */
  metadata: string | null;
}

/** Preconditions of a KV write. */
export interface KvPutOptions {
  /** Write only if the key does not exist (`?add=true`). */
  add?: boolean;
  /** Write only if the current generation is this one (`if-generation-match`). */
  ifGenerationMatch?: string;
}

/** `POST /resources/stores/kv` with JSON `{"name"}`. */
export function createKvStore(t: Transport, name: string): Promise<StoreRef> {
  const req = { method: 'POST', path: '/resources/stores/kv', body: { json: { name } } } as const;
  return requestOk(t, req, decodeStore);
}

/** `GET /resources/stores/kv?cursor=`: every KV store, all pages. */
export function listKvStores(t: Transport): Promise<StoreRef[]> {
  const page = (cursor: string | undefined): ApiRequest => ({
    method: 'GET',
    path: '/resources/stores/kv',
    query: { cursor },
  });
  return collectPages(t, page, pageDecoder(decodeStore));
}

/** `GET .../keys/{key}`: the value with its generation, or null when the key does not exist. */
export async function kvGet(t: Transport, storeId: string, key: string): Promise<KvEntry | null> {
  // The answer is the raw value, not JSON, so ask for anything.
  const req: ApiRequest = {
    method: 'GET',
    path: keyPath(storeId, key),
    accept: '*/*',
    expect: [404],
  };
  const res = await t.send(req);
  if (res.status === 404) return null;
  const generation = parseGeneration(res.headers.get('Generation'));
  if (generation === undefined) throw t.malformed(req, res, 'has no valid Generation header');
  const metadata = res.headers.get('Metadata');
  return {
    value: res.text,
    generation,
    metadata: metadata === null || metadata === '' ? null : metadata,
  };
}

/**
 * `PUT .../keys/{key}` with the raw value: true when written, false when a precondition failed
 * (412). It never reads the key back for the new generation: that read may be stale, and a
 * caller that needs the generation reads it when it needs it.
 */
export async function kvPut(
  t: Transport,
  storeId: string,
  key: string,
  value: string,
  options: KvPutOptions = {},
): Promise<boolean> {
  const req: ApiRequest = {
    method: 'PUT',
    path: keyPath(storeId, key),
    query: { add: options.add ? 'true' : undefined },
    headers: generationHeader(options.ifGenerationMatch),
    body: { raw: value },
    expect: [412],
  };
  const res = await t.send(req);
  return res.status !== 412;
}

/** `DELETE .../keys/{key}`: true when deleted, false when absent (404) or the generation moved (412). */
export async function kvDelete(
  t: Transport,
  storeId: string,
  key: string,
  options: { ifGenerationMatch?: string } = {},
): Promise<boolean> {
  const res = await t.send({
    method: 'DELETE',
    path: keyPath(storeId, key),
    headers: generationHeader(options.ifGenerationMatch),
    expect: [404, 412],
    // A repeated conditional delete that landed answers 404: "not deleted", which is false.
  });
  return res.status !== 404 && res.status !== 412;
}

function keyPath(storeId: string, key: string): string {
  return apiPath`/resources/stores/kv/${storeId}/keys/${key}`;
}

function generationHeader(generation: string | undefined): Record<string, string> {
  if (generation === undefined) return {};
  if (!isGeneration(generation)) {
    throw new TskError('invalid_request', 'the KV generation is not a 64-bit unsigned integer', {
      details: { generation: generation.slice(0, 40) },
    });
  }
  return { 'if-generation-match': generation };
}

/** Largest generation: Fastly documents it as a 64-bit unsigned integer. */
const MAX_GENERATION = (1n << 64n) - 1n;

/** True for the decimal text of an integer in [0, 2^64 - 1] (1 to 20 digits, no sign). */
export function isGeneration(text: string): boolean {
  return /^[0-9]{1,20}$/.test(text) && BigInt(text) <= MAX_GENERATION;
}

/** A `Generation` header as exact decimal text, or undefined when it is not a valid one. */
export function parseGeneration(header: string | null): string | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  return isGeneration(text) ? text : undefined;
}
