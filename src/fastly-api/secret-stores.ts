// Secret stores and secrets through the management API. The HTTP verb chooses create (POST),
// create-or-recreate (PUT) or recreate (PATCH). Secrets travel sealed, as the Fastly CLI sends
// them: to a short-lived X25519 client key that Fastly signs with its pinned Ed25519 key, so the
// plaintext is readable only inside Fastly's secret store, never in a request log or proxy.
// Values are never readable back, so listing yields names and opaque digests only.
import { TskError } from '../core/errors.js';
import { fromBase64, toBase64, utf8 } from '../core/crypto/base64.js';
import { verify } from '../core/crypto/ed25519.js';
import { decodeStore } from './config-stores.js';
import type { StoreRef } from './config-stores.js';
import {
  asRecord,
  collectPages,
  decodeResponse,
  optionalString,
  pageDecoder,
  requestDecoded,
  requestOk,
  stringField,
} from './decode.js';
import type { Decoder } from './decode.js';
import { apiPath } from './http.js';
import type { ApiRequest, Transport } from './http.js';
import { X25519_KEY_BYTES, loadX25519, sealBox } from './sealed-box.js';

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
 * The Ed25519 key (base64) with which Fastly signs secret-store client keys; the Fastly CLI pins
 * the same value. Any other key must be configured on purpose (`secretSigningKey`).
 */
export const FASTLY_SECRET_SIGNING_KEY = 'CrO/A92vkxEZjtTW7D/Sr+1EMf/q9BahC0sfLkWa+0k=';

/** A client key is not used in its last minute, so a write never races its expiry. */
export const CLIENT_KEY_MARGIN_MS = 60_000;

interface ClientKey {
  raw: Uint8Array;
  base64: string;
  useUntilMs: number;
}

const decodeClientKey: Decoder<{ publicKey: string; signature: string; expiresAt: string }> = (
  value,
) => {
  const body = asRecord(value, 'client key');
  return {
    publicKey: stringField(body, 'public_key'),
    signature: stringField(body, 'signature'),
    expiresAt: stringField(body, 'expires_at'),
  };
};

/**
 * Seals secrets to Fastly's current client key. The client key is fetched, its signature
 * checked against the trusted signing key, and kept until shortly before it expires.
 */
export class SecretSealer {
  readonly #signingKey: Uint8Array;
  readonly #random: (n: number) => Uint8Array;
  #cached: ClientKey | undefined;

  /** `signingKey`: base64 of the trusted Ed25519 public key; `random`: cryptographic bytes. */
  constructor(signingKey: string, random: (n: number) => Uint8Array) {
    const raw = fromBase64(signingKey);
    if (raw === null || raw.length !== 32) {
      throw new TskError(
        'not_configured',
        'the secret-store signing key must be the base64 of a 32-byte Ed25519 public key',
      );
    }
    this.#signingKey = raw;
    this.#random = random;
  }

  /** The request fields of a sealed secret: `secret` (base64 box) and `client_key`. */
  async seal(t: Transport, plaintext: Uint8Array): Promise<{ secret: string; client_key: string }> {
    const key = await this.#clientKey(t);
    const sealed = sealBox(await loadX25519(), plaintext, key.raw, this.#random);
    return { secret: toBase64(sealed), client_key: key.base64 };
  }

  async #clientKey(t: Transport): Promise<ClientKey> {
    if (this.#cached && t.now() < this.#cached.useUntilMs) return this.#cached;
    // Asking twice only issues two keys, so the call may be retried like a read.
    const req: ApiRequest = {
      method: 'POST',
      path: '/resources/stores/secret/client-key',
      idempotent: true,
    };
    const res = await t.send(req);
    const answer = decodeResponse(t, req, res, decodeClientKey);
    const raw = fromBase64(answer.publicKey);
    const signature = fromBase64(answer.signature);
    const expiresAt = Date.parse(answer.expiresAt);
    if (raw === null || raw.length !== X25519_KEY_BYTES || signature === null) {
      throw t.malformed(
        req,
        res,
        'is malformed: public_key or signature is not base64 of the right length',
      );
    }
    if (Number.isNaN(expiresAt))
      throw t.malformed(req, res, 'is malformed: expires_at is not a date');
    if (!(await verify(this.#signingKey, signature, raw))) {
      throw new TskError(
        'upstream_failed',
        'the secret-store client key is not signed by the trusted signing key, so the secret was not sent',
        { details: { method: req.method, path: req.path, outcome: 'refused' } },
      );
    }
    const key = { raw, base64: answer.publicKey, useUntilMs: expiresAt - CLIENT_KEY_MARGIN_MS };
    this.#cached = key;
    return key;
  }
}

/** `GET /resources/stores/secret/signing-key`: the signing key the API itself reports. */
export function getSecretSigningKey(t: Transport): Promise<string> {
  const req = { method: 'GET', path: '/resources/stores/secret/signing-key' } as const;
  return requestOk(t, req, (value) => stringField(asRecord(value, 'answer'), 'signing_key'));
}

/** `GET .../secrets/{name}`: the secret's metadata, or null when it does not exist. */
export async function describeSecret(
  t: Transport,
  storeId: string,
  name: string,
): Promise<SecretMeta | null> {
  const path = apiPath`/resources/stores/secret/${storeId}/secrets/${name}`;
  const meta = await requestDecoded(t, { method: 'GET', path, expect: [404] }, decodeSecret);
  return meta ?? null;
}

/**
 * Writes a secret, sealed. `create` fails with `secret_exists` when the name is taken. Fastly's
 * wording for that (400 `duplicate: name` today) is not relied on: after any refusal of a
 * create the secret is described, and it exists or it does not.
 */
export async function putSecret(
  t: Transport,
  sealer: SecretSealer,
  storeId: string,
  name: string,
  plaintext: string | Uint8Array,
  mode: PutSecretMode,
): Promise<PutSecretResult> {
  const bytes = typeof plaintext === 'string' ? utf8(plaintext) : plaintext;
  const sealed = await sealer.seal(t, bytes);
  const req: ApiRequest = {
    method: METHOD_BY_MODE[mode],
    path: apiPath`/resources/stores/secret/${storeId}/secrets`,
    body: { json: { name, ...sealed } },
    // A validation error that echoes the input must not carry the key into logs.
    redact: typeof plaintext === 'string' ? [toBase64(bytes), plaintext] : [toBase64(bytes)],
  };
  try {
    const res = await t.send(req);
    return decodeResponse(t, req, res, decodePutResult);
  } catch (err) {
    if (mode !== 'create' || !refusedByRequest(err)) throw err;
    if ((await describeSecret(t, storeId, name).catch(() => null)) === null) throw err;
    throw new TskError('secret_exists', `secret "${name}" already exists in store ${storeId}`, {
      details: {
        status: err.details['status'],
        method: req.method,
        path: req.path,
        storeId,
        name,
        outcome: 'refused',
      },
    });
  }
}

/** A 4xx that judged the request itself (not the token, not the rate limit). */
function refusedByRequest(err: unknown): err is TskError & { details: Record<string, unknown> } {
  if (!(err instanceof TskError) || err.details === undefined) return false;
  const status = err.details['status'];
  return (
    typeof status === 'number' && status >= 400 && status < 500 && ![401, 403, 429].includes(status)
  );
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
