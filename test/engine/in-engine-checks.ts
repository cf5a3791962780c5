// Checks that run INSIDE the real js-compute engine (StarlingMonkey), offline: with
// --enable-experimental-top-level-await, js-compute-runtime evaluates this module at build time
// under Wizer, so what Node cannot tell us - Ed25519 over the engine's crypto.subtle SHA-512,
// zod/mini, strict TextDecoder, btoa/atob - is exercised in the engine we deploy to. `Request`
// cannot be built during initialization, so the HTTP layer is covered by the Node suites.
// Run by scripts/engine-check.mjs (`npm run check:engine`), which fails on any FAIL line.
import {
  authenticate,
  basicEntryName,
  basicRecord,
  parseAuthorization,
  sha256Hex,
  tokenRecord,
} from '../../src/core/auth/admin-token.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../src/core/crypto/base64.js';
import { publicKeyOf, verify } from '../../src/core/crypto/ed25519.js';
import { readEdgeKeyring } from '../../src/core/keyring/edge-view.js';
import { loadKeyring, derivedItems } from '../../src/core/keyring/store-items.js';
import { transition } from '../../src/core/keyring/transitions.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { decodeSeed } from '../../src/core/keys/seed-encoding.js';
import { buildPayloadV11, signPayload } from '../../src/core/signing/request-signing.js';
import { openBox, sealBox } from '../../src/fastly-api/sealed-box.js';
import { x25519 } from '../../src/fastly-api/x25519.js';

const hexBytes = (h: string): Uint8Array =>
  Uint8Array.from({ length: h.length / 2 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
const toHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
import { createVerifier } from '../../src/verifier/index.js';
import { importKeys } from '../../src/verifier/keys.js';

const results: string[] = [];
const check = (name: string, ok: boolean, extra = ''): void => {
  results.push(`${ok ? 'PASS' : 'FAIL'} ${name}${extra ? ` ${extra}` : ''}`);
};
const seed = decodeSeed('NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=', 'ts-2025-10-A');
const jwk = publicJwk('ts-2025-10-A', await publicKeyOf(seed));
check('seed -> x (Trusted Server vector)', jwk.x === 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw');
const publicKey = fromBase64Url(jwk.x) ?? new Uint8Array(0);
const sigBytes = (text: string): Uint8Array => fromBase64Url(text) ?? new Uint8Array(0);
const payload = buildPayloadV11({ kid: 'ts-2025-10-A', host: 'p.example', id: 'r', ts: 1 });
let t = Date.now();
const N = 20;
let sig = '';
for (let i = 0; i < N; i++) sig = await signPayload(seed, payload);
const signMs = (Date.now() - t) / N;
t = Date.now();
let ok = false;
for (let i = 0; i < N; i++) ok = await verify(publicKey, sigBytes(sig), utf8(payload));
const verifyMs = (Date.now() - t) / N;
check(
  'sign then verify',
  ok,
  `(sign ${signMs.toFixed(1)} ms, verify ${verifyMs.toFixed(1)} ms, mean of ${N})`,
);
check('tampered payload refused', !(await verify(publicKey, sigBytes(sig), utf8(payload + ' '))));
const items = new Map([
  ['ts-2025-10-A', JSON.stringify(jwk)],
  ['current-kid', 'ts-2025-10-A'],
  ['active-kids', 'ts-2025-10-A'],
]);
const { keyring, adopted } = loadKeyring(items, {
  deployment: 'default',
  nowMs: 1795315686921,
  keyLifetimeDays: 90,
});
check('adopt Trusted Server store', adopted && keyring.keysets[0]?.state === 'ACTIVE');
const derived = derivedItems({ ...keyring, version: 1 });
const view = await readEdgeKeyring({ get: async (k) => derived.get(k) ?? null });
check(
  'edge view from keyring item (zod/mini parse)',
  view.version === 1 && view.keysets.length === 1,
);
try {
  transition(keyring, 'taint', { id: 'ts-2025-10-A', nowIso: new Date(0).toISOString() });
  check('refusal message', false);
} catch (e) {
  check('refusal message', (e as Error).message === 'cannot taint active key set');
}
let fatal = false;
try {
  new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff]));
} catch {
  fatal = true;
}
check('TextDecoder fatal rejects invalid UTF-8', fatal);
check('base64url round trip', toBase64Url(publicKey) === jwk.x);
check(
  'sha256Hex',
  (await sha256Hex('abc')) === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
);
const rec = await tokenRecord('s'.repeat(32), 'operator');
check(
  'admin token authenticate',
  (await authenticate({ id: 'ops', secret: 's'.repeat(32) }, rec)).role === 'operator',
);
// An imported Trusted Server Basic credential: non-ASCII UTF-8 through atob and the strict
// TextDecoder, the username's entry name, and the salted record.
const basicUser = 'ops admin@publisher.example';
const basicPassword = 'pä:ss word ✓ 1';
const header = `Basic ${btoa(String.fromCharCode(...utf8(`${basicUser}:${basicPassword}`)))}`;
const basicCredential = await parseAuthorization(header);
const basicName = await basicEntryName(basicUser);
check(
  'Basic entry name',
  basicName === 'basic-pa7g8SChXj2DlWBitD41LZ3ijFn9sew0Zlui9PVtWnA' &&
    basicCredential?.id === basicName &&
    basicCredential.secret === basicPassword,
  basicName,
);
const salted = await basicRecord(basicPassword, 'operator', {
  bytes: (n) => new Uint8Array(n).fill(7),
});
check(
  'Basic salted record authenticate',
  (await authenticate(basicCredential ?? { id: '', secret: '' }, salted)).role === 'operator',
);
// The sealed box private keys travel in to Fastly: X25519 on the Montgomery ladder, BLAKE2b,
// XSalsa20-Poly1305, all BigInt and typed-array work the engine must do exactly as Node does.
const rfcShared = x25519.getSharedSecret(
  hexBytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
  hexBytes('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
);
check(
  'x25519 (RFC 7748 6.1)',
  toHex(rfcShared) === '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
);
const recipientSecret = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const sealed = sealBox(x25519, utf8('seed text'), x25519.getPublicKey(recipientSecret), (n) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff),
);
const opened = openBox(x25519, sealed, recipientSecret);
check('sealed box round trip', opened !== null && new TextDecoder().decode(opened) === 'seed text');

// The partner verifier as a Fastly Compute partner would run it. `Response` and timers cannot be
// made during initialization, so the injected fetch answers a Response-shaped object and the
// verifier's own timeout is off (0).
let verifierFetches = 0;
const discovery = JSON.stringify({
  version: '1.0',
  jwks: { keys: [jwk] },
  keyring_version: 1,
  tainted_kids: [],
});
const verifier = createVerifier({
  discoveryUrl: 'https://publisher.example/.well-known/trusted-server.json',
  host: 'p.example',
  maxAgeSeconds: 1e10,
  fetchTimeoutMs: 0,
  keyLog: false,
  fetch: async () => {
    verifierFetches += 1;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(utf8(discovery));
        c.close();
      },
    });
    return {
      status: 200,
      headers: new Headers({ etag: '"1"', 'cache-control': 'public, max-age=60' }),
      body,
    } as unknown as Response;
  },
});
const engineKeys = await importKeys([jwk], 'auto');
check(
  'verifier: no WebCrypto Ed25519 here, so @noble/ed25519 checks',
  engineKeys.get('ts-2025-10-A')?.webcrypto === null,
);
t = Date.now();
const verified = await verifier.verify({ payload, signature: sig });
const verifierMs = Date.now() - t;
check(
  'verifier: engine-signed v1.1 payload verifies',
  verified.verified && verified.kid === 'ts-2025-10-A',
  `(first call with fetch ${verifierMs} ms)`,
);
const flippedSig = sig.startsWith('A') ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
const refusedFlip = await verifier.verify({ payload, signature: flippedSig });
check(
  'verifier: altered signature refused',
  !refusedFlip.verified && refusedFlip.reason === 'invalid_signature',
);
const dup = await verifier.verify({
  payload: payload.replace('"host"', '"host":"p.example","host"'),
  signature: sig,
});
check('verifier: duplicate member refused', !dup.verified && dup.reason === 'duplicate_member');
const tsVector = await createVerifier({
  jwksUrl: 'https://publisher.example/.well-known/jwks.json',
  host: 'publisher.example',
  maxAgeSeconds: 1e10,
  fetchTimeoutMs: 0,
  keyLog: false,
  fetch: async () =>
    ({
      status: 200,
      headers: new Headers(),
      body: new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(utf8(JSON.stringify({ keys: [jwk] })));
          c.close();
        },
      }),
    }) as unknown as Response,
}).verify({
  payload:
    '{"version":"1.1","kid":"ts-2025-10-A","host":"publisher.example","scheme":"https","id":"req-1","ts":1763800000000}',
  signature:
    'k0ohGlOVv9H9VZBikwUwlRPsgR-sG3pq19qLxXp5hLpG0X8xn5tQwSEELiRepu4r7BZ0Zv3EnwnM--1KSujCBg',
});
check("verifier: Trusted Server's pinned vector", tsVector.verified);
check('verifier: one fetch for three verifications', verifierFetches === 1);
for (const r of results) console.log(r);
declare function addEventListener(
  type: 'fetch',
  listener: (event: { respondWith(r: Response): void }) => void,
): void;
// A module for js-compute-runtime needs a fetch listener; this one is never called.
addEventListener('fetch', (event) => event.respondWith(new Response('in-engine checks')));
