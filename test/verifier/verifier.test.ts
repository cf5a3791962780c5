// The partner verifier against a scripted publisher: Trusted Server's vectors, every refusal
// reason, hostile inputs, and the caching contract counted fetch by fetch.
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  MAX_PAYLOAD_BYTES,
  type VerifierOptions,
  type VerifyResult,
} from '../../src/verifier/index.js';
import { importKeys, verifyEd25519 } from '../../src/verifier/keys.js';
import {
  clock,
  DEV,
  HOST,
  newKey,
  payloadText,
  publisher,
  signed,
  signText,
  type Publisher,
} from './support.js';

const URL_ = 'https://publisher.example/.well-known/trusted-server.json';
// Trusted Server's v1.1 vector: the development key's signature over this payload, pinned from
// OpenSSL in test/core/crypto-vectors.test.ts.
const TS_VECTOR = {
  payload:
    '{"version":"1.1","kid":"ts-2025-10-A","host":"publisher.example","scheme":"https","id":"req-1","ts":1763800000000}',
  signature:
    'k0ohGlOVv9H9VZBikwUwlRPsgR-sG3pq19qLxXp5hLpG0X8xn5tQwSEELiRepu4r7BZ0Zv3EnwnM--1KSujCBg',
};

function setup(pub: Publisher, options: Partial<VerifierOptions> = {}) {
  const c = clock();
  const verifier = createVerifier({
    discoveryUrl: URL_,
    host: HOST,
    fetch: pub.fetch,
    now: c.now,
    // These publishers serve no key log; the chain has its own suite (key-log-chain.test.ts).
    keyLog: false,
    ...options,
  });
  return { verifier, clock: c };
}
const reason = (r: VerifyResult): string => (r.verified ? 'verified' : r.reason);

describe.each(['webcrypto', 'noble'] as const)('Ed25519 through %s', (choice) => {
  it("verifies Trusted Server's pinned v1.1 vector and refuses it with one bit flipped", async () => {
    const pub = publisher([DEV]);
    const { verifier } = setup(pub, { crypto: choice });
    const ok = await verifier.verify(TS_VECTOR);
    expect(ok).toMatchObject({ verified: true, kid: DEV.kid, keyState: 'published', stale: false });
    expect(ok.verified && ok.payload).toEqual(JSON.parse(TS_VECTOR.payload));
    const bytes = Buffer.from(TS_VECTOR.signature, 'base64url');
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    const flipped = { ...TS_VECTOR, signature: bytes.toString('base64url') };
    expect(reason(await verifier.verify(flipped))).toBe('invalid_signature');
    // The same signature over a payload one member different does not verify either.
    const other = TS_VECTOR.payload.replace('req-1', 'req-2');
    expect(reason(await verifier.verify({ ...TS_VECTOR, payload: other }))).toBe(
      'invalid_signature',
    );
  });

  it('checks RFC 8032 §7.1 TEST 2 with the raw key', async () => {
    const x = Buffer.from(
      '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      'hex',
    );
    const sig = Buffer.from(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
        '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
      'hex',
    );
    const keys = await importKeys(
      [{ kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url'), kid: 't2' }],
      choice,
    );
    const key = keys.get('t2');
    if (!key) throw new Error('not imported');
    expect(key.webcrypto === null).toBe(choice === 'noble');
    expect(await verifyEd25519(key, sig, Buffer.from('72', 'hex'))).toBe(true);
    expect(await verifyEd25519(key, sig, Buffer.from('73', 'hex'))).toBe(false);
  });
});

describe('refusals, each with its reason and without a fetch where the payload decides', () => {
  const now = 1_763_800_000_000;
  const good = signed(DEV, now);
  const cases: Array<[string, { payload: string; signature: string; kid?: string }, string]> = [
    ['not JSON', { payload: 'hello', signature: good.signature }, 'malformed_payload'],
    ['a JSON array', { payload: '[1]', signature: good.signature }, 'malformed_payload'],
    [
      'text after the object',
      { payload: `${good.payload} x`, signature: good.signature },
      'malformed_payload',
    ],
    [
      'a nested value',
      { payload: good.payload.replace('"req-1"', '{"a":1}'), signature: good.signature },
      'malformed_payload',
    ],
    [
      'an extra member',
      { payload: good.payload.replace('{', '{"extra":1,'), signature: good.signature },
      'malformed_payload',
    ],
    [
      'scheme http',
      { payload: good.payload.replace('"https"', '"http"'), signature: good.signature },
      'malformed_payload',
    ],
    [
      'ts as a string',
      { payload: good.payload.replace(`${now}`, `"${now}"`), signature: good.signature },
      'malformed_payload',
    ],
    [
      'ts with a fraction',
      { payload: good.payload.replace(`${now}`, `${now}.5`), signature: good.signature },
      'malformed_payload',
    ],
    [
      'a duplicate host (JSON.parse would keep the last)',
      {
        payload: good.payload.replace('"host"', '"host":"evil.example","host"'),
        signature: good.signature,
      },
      'duplicate_member',
    ],
    [
      'a duplicate written with an escape',
      {
        payload: good.payload.replace('"id"', '"\\u0069d":"x","id"'),
        signature: good.signature,
      },
      'duplicate_member',
    ],
    [
      'version 1.0',
      { payload: good.payload.replace('"1.1"', '"1.0"'), signature: good.signature },
      'unsupported_version',
    ],
    [
      'a numeric kid',
      { payload: good.payload.replace(`"${DEV.kid}"`, '42'), signature: good.signature },
      'invalid_kid',
    ],
    [
      'an array kid',
      { payload: good.payload.replace(`"${DEV.kid}"`, '["a"]'), signature: good.signature },
      'malformed_payload',
    ],
    [
      'an empty kid',
      { payload: good.payload.replace(`"${DEV.kid}"`, '""'), signature: good.signature },
      'invalid_kid',
    ],
    [
      'a kid of 129 characters',
      { payload: good.payload.replace(`"${DEV.kid}"`, `"${'k'.repeat(129)}"`), signature: '' },
      'invalid_kid',
    ],
    ['a different kid given', { ...good, kid: 'ts-other' }, 'kid_mismatch'],
    ['another host', signed(DEV, now, { host: 'evil.example' }), 'host_mismatch'],
    ['ts 301 s old', signed(DEV, now - 301_000), 'expired'],
    ['ts 1 ms in the future', signed(DEV, now + 1), 'ts_in_future'],
    [
      'a padded signature',
      { payload: good.payload, signature: `${good.signature}==` },
      'malformed_signature',
    ],
    [
      'standard base64',
      {
        payload: good.payload,
        signature: Buffer.from(good.signature, 'base64url').toString('base64'),
      },
      'malformed_signature',
    ],
    [
      '63 bytes',
      {
        payload: good.payload,
        signature: Buffer.alloc(63, 1).toString('base64url'),
      },
      'malformed_signature',
    ],
    [
      'non-canonical trailing bits',
      {
        payload: good.payload,
        // The last character of a 64-byte base64url text carries 4 unused bits: set one.
        signature:
          good.signature.slice(0, -1) + String.fromCharCode(good.signature.charCodeAt(85) + 1),
      },
      'malformed_signature',
    ],
    [
      `a payload over ${MAX_PAYLOAD_BYTES} bytes`,
      { payload: `{"id":"${'a'.repeat(1_000_000)}"}`, signature: good.signature },
      'payload_too_large',
    ],
  ];

  it.each(cases)('%s', async (_name, input, expected) => {
    const pub = publisher([DEV]);
    const { verifier } = setup(pub);
    const result = await verifier.verify(input);
    expect(reason(result)).toBe(expected);
    // Nothing the caller cannot read in the payload is worth a request to the publisher.
    expect(pub.requests).toHaveLength(0);
    if (!result.verified) expect(result.detail).not.toContain(good.signature);
  });

  it('the untouched input verifies (so each case above fails for its own reason)', async () => {
    const { verifier } = setup(publisher([DEV]));
    expect(reason(await verifier.verify({ ...good, kid: DEV.kid }))).toBe('verified');
  });

  it('non-string inputs are refused, not thrown', async () => {
    const { verifier } = setup(publisher([DEV]));
    const bad = { payload: 42, signature: null } as unknown as {
      payload: string;
      signature: string;
    };
    expect(reason(await verifier.verify(bad))).toBe('malformed_payload');
  });

  it('accepts ts exactly at the window edges and a configured tolerance for the future', async () => {
    const pub = publisher([DEV]);
    const { verifier } = setup(pub, { maxAgeSeconds: 10, clockToleranceSeconds: 2 });
    expect(reason(await verifier.verify(signed(DEV, now - 10_000)))).toBe('verified');
    expect(reason(await verifier.verify(signed(DEV, now - 10_001)))).toBe('expired');
    expect(reason(await verifier.verify(signed(DEV, now + 2000)))).toBe('verified');
    expect(reason(await verifier.verify(signed(DEV, now + 2001)))).toBe('ts_in_future');
  });

  it('compares the host ASCII case-insensitively, and only ASCII', async () => {
    const { verifier } = setup(publisher([DEV]), { host: 'Publisher.EXAMPLE' });
    expect(reason(await verifier.verify(signed(DEV, now)))).toBe('verified');
    // U+212A KELVIN SIGN lower-cases to "k" in Unicode; a host is not Unicode-folded.
    const kelvin = setup(publisher([DEV]), { host: 'kelvin.example' }).verifier;
    expect(reason(await kelvin.verify(signed(DEV, now, { host: '\u212Aelvin.example' })))).toBe(
      'host_mismatch',
    );
    expect(reason(await kelvin.verify(signed(DEV, now, { host: 'Kelvin.example' })))).toBe(
      'verified',
    );
  });

  it('padded standard base64 verifies only with signatureEncoding base64url-or-base64', async () => {
    const padded = Buffer.from(good.signature, 'base64url').toString('base64');
    expect(padded.endsWith('==')).toBe(true);
    const strict = setup(publisher([DEV])).verifier;
    const lenient = setup(publisher([DEV]), { signatureEncoding: 'base64url-or-base64' }).verifier;
    expect(reason(await strict.verify({ payload: good.payload, signature: padded }))).toBe(
      'malformed_signature',
    );
    expect(reason(await lenient.verify({ payload: good.payload, signature: padded }))).toBe(
      'verified',
    );
    // Lenient is not sloppy: padding without its characters, or bad bits, still fail.
    expect(
      reason(await lenient.verify({ payload: good.payload, signature: padded.slice(0, -1) })),
    ).toBe('malformed_signature');
  });

  it('a tainted key verifies only when the caller allows it, per verifier or per call', async () => {
    const pub = publisher([DEV]);
    pub.setKeys([DEV], [DEV.kid]);
    const { verifier } = setup(pub);
    expect(await verifier.verify(good)).toMatchObject({
      verified: false,
      reason: 'tainted_key',
      kid: DEV.kid,
      keyState: 'tainted',
    });
    expect(await verifier.verify({ ...good, allowTainted: true })).toMatchObject({
      verified: true,
      keyState: 'tainted',
    });
    const lax = setup(pub, { allowTainted: true }).verifier;
    expect(reason(await lax.verify(good))).toBe('verified');
    expect(reason(await lax.verify({ ...good, allowTainted: false }))).toBe('tainted_key');
  });

  it('refuses bad options with a TypeError', () => {
    const pub = publisher([DEV]);
    const base = { host: HOST, fetch: pub.fetch };
    expect(() => createVerifier(base)).toThrow(/exactly one of discoveryUrl and jwksUrl/);
    expect(() => createVerifier({ ...base, discoveryUrl: URL_, jwksUrl: URL_ })).toThrow(
      /exactly one/,
    );
    expect(() => createVerifier({ ...base, jwksUrl: '/relative' })).toThrow(/absolute URL/);
    expect(() => createVerifier({ ...base, jwksUrl: URL_, host: '' })).toThrow(/host/);
    expect(() => createVerifier({ ...base, jwksUrl: URL_, cooldownSeconds: -1 })).toThrow(
      /cooldownSeconds/,
    );
    expect(() =>
      createVerifier({
        ...base,
        jwksUrl: URL_,
        signatureEncoding: 'hex' as unknown as 'base64url',
      }),
    ).toThrow(/signatureEncoding/);
  });
});

describe('the key document cache', () => {
  it('reuses the document for max-age, then revalidates with If-None-Match (304: no body)', async () => {
    const pub = publisher([DEV]);
    const { verifier, clock: c } = setup(pub, { maxAgeSeconds: 3600 });
    for (let i = 0; i < 5; i++) {
      expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
      c.advance(11); // 0, 11, 22, 33, 44 s: all inside max-age=60
    }
    expect(pub.requests.map((r) => r.status)).toEqual([200]);
    c.advance(16); // 60 s after the fetch: no longer fresh
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
    expect(pub.requests.map((r) => [r.status, r.ifNoneMatch])).toEqual([
      [200, null],
      [304, '"1"'],
    ]);
    // The 304 renewed freshness for another max-age.
    c.advance(59);
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
    expect(pub.requests).toHaveLength(2);
  });

  it('honours Age, no-cache and caps a long max-age at maxCacheSeconds', async () => {
    const pub = publisher([DEV]);
    pub.age = 50;
    const { verifier, clock: c } = setup(pub, { maxAgeSeconds: 1e6 });
    await verifier.verify(signed(DEV, c.now()));
    c.advance(10); // 60 - 50 s of freshness left at the fetch
    await verifier.verify(signed(DEV, c.now()));
    expect(pub.requests).toHaveLength(2);
    pub.age = null;
    pub.cacheControl = 'no-cache';
    pub.setKeys([DEV]);
    c.advance(60);
    await verifier.verify(signed(DEV, c.now()));
    await verifier.verify(signed(DEV, c.now()));
    expect(pub.requests).toHaveLength(4);
    pub.cacheControl = 'max-age=31536000';
    pub.setKeys([DEV]);
    const capped = setup(pub, { maxAgeSeconds: 1e6, maxCacheSeconds: 120 });
    await capped.verifier.verify(signed(DEV, capped.clock.now()));
    capped.clock.advance(119);
    await capped.verifier.verify(signed(DEV, capped.clock.now()));
    expect(pub.requests).toHaveLength(5);
    capped.clock.advance(1);
    await capped.verifier.verify(signed(DEV, capped.clock.now()));
    expect(pub.requests).toHaveLength(6);
  });

  it('an unknown kid refetches at once, then at most once per cooldown', async () => {
    const pub = publisher([DEV]);
    const { verifier, clock: c } = setup(pub, { cooldownSeconds: 30, maxAgeSeconds: 3600 });
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
    // The publisher rotates: the new kid is unknown to our cached set, so we refetch once.
    const next = newKey('ts-next');
    pub.setKeys([DEV, next]);
    c.advance(1);
    expect(reason(await verifier.verify(signed(next, c.now())))).toBe('verified');
    expect(pub.requests.map((r) => r.status)).toEqual([200, 200]);
    // Someone sends made-up kids: one refetch per cooldown, however many requests.
    const forged = newKey('forged');
    for (let i = 0; i < 50; i++) {
      expect(reason(await verifier.verify(signed({ ...forged, kid: `f${i}` }, c.now())))).toBe(
        'unknown_kid',
      );
      c.advance(1); // 50 s of forged kids
    }
    // The first forged kid came 1 s after the rotation refetch (cooldown running), so the next
    // refetch was at the 30 s mark, then none until 60 s.
    expect(pub.requests.map((r) => r.status)).toEqual([200, 200, 304]);
  });

  it('concurrent unknown kids share one fetch', async () => {
    const pub = publisher([DEV]);
    const { verifier, clock: c } = setup(pub);
    await verifier.verify(signed(DEV, c.now()));
    const forged = newKey('forged');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => verifier.verify(signed(forged, c.now()))),
    );
    expect(results.map(reason)).toEqual(Array(20).fill('unknown_kid'));
    expect(pub.requests).toHaveLength(2);
  });

  it('serves the last good set while the publisher is down, within stale-if-error, one attempt per cooldown', async () => {
    const pub = publisher([DEV]);
    const { verifier, clock: c } = setup(pub, {
      maxAgeSeconds: 1e6,
      staleIfErrorSeconds: 300,
      cooldownSeconds: 30,
    });
    await verifier.verify(signed(DEV, c.now()));
    pub.failure = 'down';
    c.advance(60); // fresh until here
    const stale = await verifier.verify(signed(DEV, c.now()));
    expect(stale).toMatchObject({ verified: true, stale: true });
    for (let i = 0; i < 29; i++) {
      c.advance(10); // to 350 s after the fetch: stale-if-error runs to 360 s
      expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
    }
    // One attempt every 30 s while down, not one per verification.
    const attempts = pub.requests.filter((r) => r.status === 'error').length;
    expect(attempts).toBe(10);
    c.advance(10); // 360 s: past the bound
    const gone = await verifier.verify(signed(DEV, c.now()));
    expect(gone).toMatchObject({ verified: false, reason: 'keys_unavailable' });
    expect(!gone.verified && gone.detail).toMatch(/could not be fetched.*stale-if-error bound/);
    // Back up: the next attempt (cooldown permitting) restores service.
    pub.failure = null;
    c.advance(30);
    expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({
      verified: true,
      stale: false,
    });
  });

  it("honours the publisher's stale-if-error, capped by maxStaleSeconds; 5xx counts as down", async () => {
    const pub = publisher([DEV]);
    pub.cacheControl = 'max-age=60, stale-if-error=100000';
    const { verifier, clock: c } = setup(pub, { maxAgeSeconds: 1e7, maxStaleSeconds: 1000 });
    await verifier.verify(signed(DEV, c.now()));
    pub.failure = 503;
    c.advance(60 + 999);
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
    c.advance(1);
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('keys_unavailable');
  });

  it('stale-while-revalidate answers at once and refreshes behind', async () => {
    const pub = publisher([DEV]);
    pub.cacheControl = 'max-age=60, stale-while-revalidate=30';
    const { verifier, clock: c } = setup(pub, { maxAgeSeconds: 1e6 });
    await verifier.verify(signed(DEV, c.now()));
    c.advance(70);
    const result = await verifier.verify(signed(DEV, c.now()));
    expect(result).toMatchObject({ verified: true, stale: true });
    await verifier.idle();
    expect(pub.requests.map((r) => r.status)).toEqual([200, 304]);
    expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({ stale: false });
    expect(pub.requests).toHaveLength(2);
  });

  it('never fetched and unreachable: keys_unavailable, retried only after the cooldown', async () => {
    const pub = publisher([DEV]);
    pub.failure = 'down';
    const { verifier, clock: c } = setup(pub);
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('keys_unavailable');
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('keys_unavailable');
    expect(pub.requests).toHaveLength(1);
    c.advance(30);
    pub.failure = null;
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('verified');
  });

  it('a hostile document never replaces the last good set', async () => {
    const pub = publisher([DEV]);
    const { verifier, clock: c } = setup(pub, { maxAgeSeconds: 1e6, staleIfErrorSeconds: 3600 });
    await verifier.verify(signed(DEV, c.now()));
    const hostile = [
      'x'.repeat(300 * 1024), // over the size bound
      'not json',
      '{"jwks":{"keys":"nope"}}',
      JSON.stringify({ jwks: { keys: [] } }),
      JSON.stringify({ jwks: { keys: [{ ...DEV, kty: 'OKP', crv: 'Ed25519' }] } }), // has d
      JSON.stringify({ jwks: { keys: [{ kid: DEV.kid, kty: 'OKP', crv: 'Ed25519', x: 'AA' }] } }),
      JSON.stringify({ jwks: { keys: [] }, tainted_kids: 'all' }),
    ];
    for (const body of hostile) {
      pub.setBody(body);
      c.advance(60);
      expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({
        verified: true,
        stale: true,
      });
      c.advance(30); // let the failure cooldown pass
    }
  });

  it('a kid published twice is refused rather than guessed', async () => {
    const pub = publisher([DEV]);
    const twin = { ...newKey(DEV.kid) };
    const other = newKey('other');
    pub.setKeys([DEV, twin, other]);
    const { verifier, clock: c } = setup(pub);
    expect(reason(await verifier.verify(signed(DEV, c.now())))).toBe('unknown_kid');
    expect(reason(await verifier.verify(signed(other, c.now())))).toBe('verified');
  });

  it('reads a bare JWKS from jwksUrl (no taint information there)', async () => {
    const pub = publisher([DEV], { bare: true });
    const c = clock();
    const verifier = createVerifier({
      jwksUrl: 'https://publisher.example/.well-known/jwks.json',
      host: HOST,
      fetch: pub.fetch,
      now: c.now,
      keyLog: false,
    });
    expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({
      verified: true,
      keyState: 'published',
    });
    expect(pub.requests[0]?.url).toBe('https://publisher.example/.well-known/jwks.json');
  });

  it('a fetch that never answers is abandoned after fetchTimeoutMs', async () => {
    const c = clock();
    let aborted = false;
    const verifier = createVerifier({
      discoveryUrl: URL_,
      host: HOST,
      now: c.now,
      keyLog: false,
      fetchTimeoutMs: 50,
      fetch: (_url, init) =>
        new Promise((_resolve, reject) => {
          init.signal?.addEventListener('abort', () => {
            aborted = true;
            reject(new DOMException('aborted', 'AbortError'));
          });
        }),
    });
    const result = await verifier.verify(signed(DEV, c.now()));
    expect(result).toMatchObject({ verified: false, reason: 'keys_unavailable' });
    expect(!result.verified && result.detail).toMatch(/did not answer within 50 ms/);
    expect(aborted).toBe(true);
    // A fetch that ignores the signal (Fastly Compute has no AbortController) is abandoned too.
    const deaf = createVerifier({
      discoveryUrl: URL_,
      host: HOST,
      now: c.now,
      keyLog: false,
      fetchTimeoutMs: 50,
      fetch: () => new Promise<Response>(() => undefined),
    });
    expect(await deaf.verify(signed(DEV, c.now()))).toMatchObject({
      verified: false,
      reason: 'keys_unavailable',
      detail: 'the key document did not answer within 50 ms',
    });
  });

  it('signText is independent of the verifier: a payload it signs is the exact text', () => {
    const text = payloadText({ kid: DEV.kid, ts: 1763800000000 });
    expect(text).toBe(TS_VECTOR.payload);
    expect(signText(DEV, text)).toBe(TS_VECTOR.signature);
  });
});
