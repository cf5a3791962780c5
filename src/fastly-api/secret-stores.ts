// Secret stores and secrets through the management API. The HTTP verb chooses create (POST),
// create-or-recreate (PUT) or recreate (PATCH); the secret travels as base64 of its bytes.
// Values are never readable back, so listing yields names and opaque digests only.
import { TskError } from '../core/errors.js';
import { toBase64, utf8 } from '../core/crypto/base64.js';
import { decodeStore } from './config-stores.js';
import type { StoreRef } from './config-stores.js';
import {
  asRecord,
  collectPages,
  decodeResponse,
  optionalString,
  pageDecoder,
  requestOk,
  stringField,
} from './decode.js';
import type { Decoder } from './decode.js';
import { saysDuplicate } from './failures.js';
import { apiPath } from './http.js';
import type { ApiRequest, Transport } from './http.js';

/** Largest page the secrets listing serves. */
export const SECRETS_PAGE_LIMIT = 200;

/** How `putSecret` treats an existing name: fail, replace or require it. */
export type PutSecretMode = 'create' | 'upsert' | 'recreate';

/** A secret's metadata (its value is never readable through the API). */
export interface SecretMeta {
  name: string;
  /** Opaque, keyed per store: not a hash of the value that can be checked. */
  digest: string;
  created_at: string;
}

/** What a write answers: the metadata, and whether an existing secret was replaced. */
export interface PutSecretResult extends SecretMeta {
  recreated: boolean;
}

const METHOD_BY_MODE = { create: 'POST', upsert: 'PUT', recreate: 'PATCH' } as const;

const decodeSecret: Decoder<SecretMeta> = (value) => {
  const secret = asRecord(value, 'secret');
  return {
    name: stringField(secret, 'name'),
    digest: stringField(secret, 'digest'),
    created_at: optionalString(secret, 'created_at') ?? '',
  };
};

const decodePutResult: Decoder<PutSecretResult> = (value) => ({
  ...decodeSecret(value),
  recreated: asRecord(value, 'secret')['recreated'] === true,
});

/** `POST /resources/stores/secret` with JSON `{"name"}`. */
export function createSecretStore(t: Transport, name: string): Promise<StoreRef> {
  const req = {
    method: 'POST',
    path: '/resources/stores/secret',
    body: { json: { name } },
  } as const;
  return requestOk(t, req, decodeStore);
}

/** `GET /resources/stores/secret?name=&cursor=`: every secret store (or those named), all pages. */
export function listSecretStores(t: Transport, name?: string): Promise<StoreRef[]> {
  const page = (cursor: string | undefined): ApiRequest => ({
    method: 'GET',
    path: '/resources/stores/secret',
    query: { name, cursor },
  });
  return collectPages(t, page, pageDecoder(decodeStore));
}

/**
 * Writes a secret. `create` fails with `secret_exists` when the name is taken; Fastly answers
 * that with 400 `duplicate: name` (a 409 is treated the same, should the API change).
 */
export async function putSecret(
  t: Transport,
  storeId: string,
  name: string,
  plaintext: string | Uint8Array,
  mode: PutSecretMode,
): Promise<PutSecretResult> {
  const secret = toBase64(typeof plaintext === 'string' ? utf8(plaintext) : plaintext);
  const req: ApiRequest = {
    method: METHOD_BY_MODE[mode],
    path: apiPath`/resources/stores/secret/${storeId}/secrets`,
    body: { json: { name, secret } },
    expect: mode === 'create' ? [400, 409] : [],
    // A validation error that echoes the input must not carry the key into logs.
    redact: typeof plaintext === 'string' ? [secret, plaintext] : [secret],
  };
  const res = await t.send(req);
  if (res.status === 409 || (res.status === 400 && saysDuplicate(res.text))) {
    throw new TskError('secret_exists', `secret "${name}" already exists in store ${storeId}`, {
      details: { status: res.status, method: req.method, path: req.path, storeId, name },
    });
  }
  if (res.status < 200 || res.status >= 300) throw t.failure(req, res);
  return decodeResponse(t, req, res, decodePutResult);
}

/** `DELETE .../secrets/{name}`: true when deleted, false when it did not exist. */
export async function deleteSecret(t: Transport, storeId: string, name: string): Promise<boolean> {
  const path = apiPath`/resources/stores/secret/${storeId}/secrets/${name}`;
  const res = await t.send({ method: 'DELETE', path, expect: [404] });
  return res.status !== 404;
}

/** `GET .../secrets?limit=200&cursor=`: every secret's metadata, following the cursor. */
export function listSecrets(t: Transport, storeId: string): Promise<SecretMeta[]> {
  const page = (cursor: string | undefined): ApiRequest => ({
    method: 'GET',
    path: apiPath`/resources/stores/secret/${storeId}/secrets`,
    query: { limit: String(SECRETS_PAGE_LIMIT), cursor },
  });
  return collectPages(t, page, pageDecoder(decodeSecret));
}
