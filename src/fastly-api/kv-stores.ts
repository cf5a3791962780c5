// KV stores and keys through the management API, with generations for compare-and-set (the
// edge cannot see generations). Values travel raw; `Generation` is a header on reads, and on
// writes only sometimes, so a write without it reads the key back.
import { TskError } from '../core/errors.js';
import { decodeStore } from './config-stores.js';
import type { StoreRef } from './config-stores.js';
import { collectPages, pageDecoder, requestOk } from './decode.js';
import { apiPath } from './http.js';
import type { ApiRequest, ApiResponse, Transport } from './http.js';

/** A KV entry with its generation and metadata. */
export interface KvEntry {
  value: string;
  /** Changes on every write; the handle for `if-generation-match`. */
  generation: number;
  /** The entry's metadata, or null when it has none. */
  metadata: string | null;
}

/** Preconditions of a KV write. */
export interface KvPutOptions {
  /** Write only if the key does not exist (`?add=true`). */
  add?: boolean;
  /** Write only if the current generation is this one (`if-generation-match`). */
  ifGenerationMatch?: number;
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
 * `PUT .../keys/{key}` with the raw value: the new generation, or null when a precondition
 * failed (412). Fastly's answer carries no `Generation` header today, so the key is read back;
 * if it then holds another value, a concurrent writer won and the generation is unknowable.
 */
export async function kvPut(
  t: Transport,
  storeId: string,
  key: string,
  value: string,
  options: KvPutOptions = {},
): Promise<number | null> {
  const req: ApiRequest = {
    method: 'PUT',
    path: keyPath(storeId, key),
    query: { add: options.add ? 'true' : undefined },
    headers: generationHeader(options.ifGenerationMatch),
    body: { raw: value },
    expect: [412],
  };
  const res = await t.send(req);
  if (res.status === 412) return null;
  const header = res.headers.get('Generation');
  if (header !== null) return generationOf(t, req, res, header);
  const entry = await kvGet(t, storeId, key);
  if (entry === null || entry.value !== value) {
    throw new TskError(
      'upstream_failed',
      `KV key ${key} changed right after ${req.method} ${req.path}; its generation is unknown`,
      { details: { method: req.method, path: req.path, status: res.status } },
    );
  }
  return entry.generation;
}

/** `DELETE .../keys/{key}`: true when deleted, false when absent (404) or the generation moved (412). */
export async function kvDelete(
  t: Transport,
  storeId: string,
  key: string,
  options: { ifGenerationMatch?: number } = {},
): Promise<boolean> {
  const res = await t.send({
    method: 'DELETE',
    path: keyPath(storeId, key),
    headers: generationHeader(options.ifGenerationMatch),
    expect: [404, 412],
  });
  return res.status !== 404 && res.status !== 412;
}

function keyPath(storeId: string, key: string): string {
  return apiPath`/resources/stores/kv/${storeId}/keys/${key}`;
}

function generationHeader(generation: number | undefined): Record<string, string> {
  if (generation === undefined) return {};
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new TskError('invalid_request', `${generation} is not a KV generation`, {
      details: { generation },
    });
  }
  return { 'if-generation-match': String(generation) };
}

function generationOf(t: Transport, req: ApiRequest, res: ApiResponse, header: string): number {
  const generation = parseGeneration(header);
  if (generation === undefined) throw t.malformed(req, res, 'has an invalid Generation header');
  return generation;
}

/** A `Generation` header as a safe integer (Fastly's are below 2^53), or undefined. */
export function parseGeneration(header: string | null): number | undefined {
  if (header === null || !/^\d{1,16}$/.test(header.trim())) return undefined;
  const generation = Number(header.trim());
  return Number.isSafeInteger(generation) ? generation : undefined;
}
