// A hand-written stand-in for fetch: records every request (body read as text) and answers
// with whatever the test's handler returns. No mock library, so the assertions read plainly.
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { FetchLike, RetryOptions } from '../../src/fastly-api/index.js';
import { FastlyApi } from '../../src/fastly-api/index.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { openBox } from '../../src/fastly-api/sealed-box.js';

const rawKey = (key: KeyObject, part: 'x' | 'd'): Uint8Array =>
  new Uint8Array(Buffer.from(String(key.export({ format: 'jwk' })[part]), 'base64url'));

/**
 * A stand-in for Fastly's secret-store client keys: an Ed25519 signer (the `signingKey` a client
 * is told to trust) and X25519 client keys it signs, whose sealed boxes `open` reads back.
 */
export class FakeClientKeys {
  readonly #signer = generateKeyPairSync('ed25519');
  readonly #boxes = new Map<string, Uint8Array>();
  /** Base64 of the Ed25519 public key that signs the client keys. */
  readonly signingKey = Buffer.from(rawKey(this.#signer.publicKey, 'x')).toString('base64');

  /** A fresh client key answer, valid for `ttlMs` after `nowMs`. */
  answer(
    nowMs = Date.now(),
    ttlMs = 600_000,
    signer: KeyObject = this.#signer.privateKey,
  ): Response {
    const pair = generateKeyPairSync('x25519');
    const publicKey = rawKey(pair.publicKey, 'x');
    const b64 = Buffer.from(publicKey).toString('base64');
    this.#boxes.set(b64, rawKey(pair.privateKey, 'd'));
    return json({
      public_key: b64,
      signature: sign(null, publicKey, signer).toString('base64'),
      expires_at: new Date(nowMs + ttlMs).toISOString(),
    });
  }

  /** The plaintext of a `{secret, client_key}` body; throws if it does not open. */
  open(body: string): { name: string; plaintext: Uint8Array; clientKey: string } {
    const doc = JSON.parse(body) as { name: string; secret: string; client_key: string };
    const secret = this.#boxes.get(doc.client_key);
    if (secret === undefined) throw new Error(`unknown client key ${doc.client_key}`);
    const plaintext = openBox(x25519, new Uint8Array(Buffer.from(doc.secret, 'base64')), secret);
    if (plaintext === null) throw new Error('the sealed secret does not open');
    return { name: doc.name, plaintext, clientKey: doc.client_key };
  }
}

/** The client keys every `apiWith` client trusts and is answered with. */
export const CLIENT_KEYS = new FakeClientKeys();

/** True for the request that asks for a client key. */
export const isClientKeyRequest = (req: Recorded): boolean =>
  req.method === 'POST' && req.url.pathname === '/resources/stores/secret/client-key';

/** A request as the fake saw it. */
export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** Answers one recorded request. */
export type Handler = (req: Recorded) => Response | Promise<Response>;

/** The token every unit test uses; no error may ever contain it. */
export const TOKEN = 'tsk-test-token-9f8e7d6c5b4a3210';

/** A fetch that records requests and answers with `handler`. */
export function fakeFetch(handler: Handler): { fetch: FetchLike; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const fetch: FetchLike = async (request) => {
    const recorded: Recorded = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: await request.text(),
    };
    calls.push(recorded);
    return handler(recorded);
  };
  return { fetch, calls };
}

/**
 * A FastlyApi over a fake fetch answering with `handler`. Client-key requests (made before a
 * secret is written) are answered by CLIENT_KEYS and kept out of `calls`, so `calls` lists the
 * operations themselves.
 */
export function apiWith(
  handler: Handler,
  options: { timeoutMs?: number; now?: () => number; retry?: RetryOptions } = {},
): { api: FastlyApi; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const { fetch } = fakeFetch((req) => {
    if (isClientKeyRequest(req)) return CLIENT_KEYS.answer(options.now?.());
    calls.push(req);
    return handler(req);
  });
  const api = new FastlyApi({
    secretSigningKey: CLIENT_KEYS.signingKey,
    endpoint: 'https://api.fastly.test',
    token: TOKEN,
    fetch,
    timeoutMs: options.timeoutMs ?? 1000,
    ...(options.now ? { now: options.now } : {}),
    // One attempt per call unless a test is about retries, so call counts stay exact.
    retry: options.retry ?? { maxRetries: 0 },
  });
  return { api, calls };
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
