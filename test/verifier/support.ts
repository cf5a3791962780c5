// A scripted publisher for the verifier's tests: serves a key document from memory through an
// injected fetch, counts every request, and signs v1.1 payloads with node:crypto (OpenSSL), an
// implementation independent of the verifier's.
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';

export const HOST = 'publisher.example';
/** Trusted Server's development key: the stored seed and its published x. */
export const DEV = {
  kid: 'ts-2025-10-A',
  d: Buffer.from('NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=', 'base64').toString('base64url'),
  x: 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw',
};

export interface TestKey {
  kid: string;
  d: string;
  x: string;
}

export function newKey(kid: string): TestKey {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { kid, d: jwk.d ?? '', x: jwk.x ?? '' };
}

export const publicJwk = (k: TestKey) => ({
  kty: 'OKP',
  crv: 'Ed25519',
  x: k.x,
  alg: 'EdDSA',
  kid: k.kid,
});

export function payloadText(p: { kid: string; ts: number; host?: string; id?: string }): string {
  return JSON.stringify({
    version: '1.1',
    kid: p.kid,
    host: p.host ?? HOST,
    scheme: 'https',
    id: p.id ?? 'req-1',
    ts: p.ts,
  });
}

/** Signs the exact text with OpenSSL: unpadded base64url, as Trusted Server sends it. */
export function signText(k: TestKey, text: string): string {
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: k.d, x: k.x },
    format: 'jwk',
  });
  return sign(null, Buffer.from(text), key).toString('base64url');
}

export function signed(k: TestKey, ts: number, extra: { host?: string; id?: string } = {}) {
  const payload = payloadText({ kid: k.kid, ts, ...extra });
  return { payload, signature: signText(k, payload) };
}

/** A virtual clock the verifier reads. */
export function clock(start = 1_763_800_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (seconds: number) => {
      t += seconds * 1000;
    },
  };
}

export interface Publisher {
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  /** Requests so far, with the If-None-Match each carried. */
  requests: Array<{ url: string; ifNoneMatch: string | null; status: number | 'error' }>;
  setKeys(keys: TestKey[], tainted?: string[]): void;
  /** Replace the document body outright (hostile documents). */
  setBody(body: string): void;
  cacheControl: string | null;
  age: number | null;
  /** `down`: fetch rejects (unreachable); a number: answer that status. */
  failure: 'down' | number | null;
}

/** A publisher serving the discovery document (or a bare JWKS) with ETag/304. */
export function publisher(keys: TestKey[], options: { bare?: boolean } = {}): Publisher {
  let version = 0;
  let body = '';
  const pub: Publisher = {
    requests: [],
    cacheControl: 'public, max-age=60',
    age: null,
    failure: null,
    setKeys(ks, tainted = []) {
      version += 1;
      const jwks = { keys: ks.map(publicJwk) };
      body = JSON.stringify(
        options.bare
          ? jwks
          : { version: '1.0', jwks, keyring_version: version, tainted_kids: tainted },
      );
    },
    setBody(text) {
      version += 1;
      body = text;
    },
    async fetch(url, init) {
      const ifNoneMatch = new Headers(init.headers).get('if-none-match');
      const record = { url, ifNoneMatch, status: 0 as number | 'error' };
      pub.requests.push(record);
      if (pub.failure === 'down') {
        record.status = 'error';
        throw new TypeError('fetch failed');
      }
      const headers = new Headers({ etag: `"${version}"` });
      if (pub.cacheControl !== null) headers.set('cache-control', pub.cacheControl);
      if (pub.age !== null) headers.set('age', String(pub.age));
      if (typeof pub.failure === 'number') {
        record.status = pub.failure;
        return new Response('{"error":"down"}', { status: pub.failure });
      }
      if (ifNoneMatch === `"${version}"`) {
        record.status = 304;
        return new Response(null, { status: 304, headers });
      }
      record.status = 200;
      headers.set('content-type', 'application/json');
      return new Response(body, { status: 200, headers });
    },
  };
  pub.setKeys(keys);
  return pub;
}
