// The partner verifier's key log check (docs/key-log.md): a key verifies only when the log,
// checked from a pinned root (or the first root seen), vouches for that kid with that public key.
// The logs here are made by the service's own writer (src/core/keyring/key-log.ts) and the
// payloads signed by OpenSSL, so each side is checked by an implementation other than its own.
import { describe, expect, it } from 'vitest';
import {
  appendEndorsement,
  serializeKeyLog,
  startKeyLog,
  type KeyLog,
} from '../../src/core/keyring/key-log.js';
import { createVerifier, type VerifierOptions } from '../../src/verifier/index.js';
import { KeyLogChain, keyLogUrlFor } from '../../src/verifier/key-log.js';
import { clock, DEV, HOST, newKey, publicJwk, signed, type TestKey } from './support.js';

const DISCOVERY = 'https://publisher.example/.well-known/trusted-server.json';
const LOG_URL = 'https://publisher.example/.well-known/trusted-server-key-log.json';
const AT = '2026-11-22T09:00:00.000Z';

const seedOf = (k: TestKey): Uint8Array => new Uint8Array(Buffer.from(k.d, 'base64url'));
const signer = (k: TestKey) => ({ kid: k.kid, seed: seedOf(k) });

/** A log rooted at DEV that endorses `keys` one after the other, each by the one before. */
async function chainOf(keys: TestKey[]): Promise<KeyLog> {
  let log = await startKeyLog('default', signer(DEV), AT);
  let previous = DEV;
  for (const k of keys) {
    log = await appendEndorsement(log, { kid: k.kid, x: k.x }, signer(previous), AT, new Set());
    previous = k;
  }
  return log;
}

/** A publisher serving a discovery document and a key log, counting requests to each. */
function publisher(keys: TestKey[], log: KeyLog | null) {
  const state = { keys, log: log === null ? null : serializeKeyLog(log), logFetches: 0 };
  const fetch = async (url: string): Promise<Response> => {
    if (url === LOG_URL) {
      state.logFetches += 1;
      return state.log === null
        ? new Response('{"code":"not_found"}', { status: 404 })
        : new Response(state.log, { headers: { 'content-type': 'application/json' } });
    }
    const body = { version: '1.0', jwks: { keys: state.keys.map(publicJwk) }, tainted_kids: [] };
    return new Response(JSON.stringify(body), {
      headers: { 'content-type': 'application/json', 'cache-control': 'max-age=60' },
    });
  };
  return { state, fetch };
}

function verifierFor(
  pub: ReturnType<typeof publisher>,
  keyLog: VerifierOptions['keyLog'] = {},
  options: Partial<VerifierOptions> = {},
) {
  const c = clock();
  const verifier = createVerifier({
    discoveryUrl: DISCOVERY,
    host: HOST,
    fetch: pub.fetch,
    now: c.now,
    keyLog,
    ...options,
  });
  return { verifier, c };
}

describe('the verifier follows the key log', () => {
  it('verifies keys the log endorses from the pinned root, and refuses a rogue key the JWKS lists', async () => {
    const next = newKey('next');
    const rogue = newKey('rogue');
    const log = await chainOf([next]);
    const pub = publisher([DEV, next, rogue], log);
    const { verifier, c } = verifierFor(pub, { rootFingerprint: log.root_fingerprint });
    expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({ verified: true });
    expect(await verifier.verify(signed(next, c.now()))).toMatchObject({ verified: true });
    const refused = await verifier.verify(signed(rogue, c.now()));
    expect(refused).toMatchObject({ verified: false, reason: 'unendorsed_key', kid: 'rogue' });
    expect(!refused.verified && refused.detail).toMatch(
      /no endorsement in the publisher's key log/,
    );
    // One log fetch: `next` was in it, and the rogue, unknown to the chain, cannot make the
    // verifier fetch again within the cooldown.
    expect(pub.state.logFetches).toBe(1);
  });

  it('refuses every key when the log is rooted elsewhere than the pin', async () => {
    const pub = publisher([DEV], await chainOf([]));
    const { verifier, c } = verifierFor(pub, { rootFingerprint: 'A'.repeat(43) });
    const result = await verifier.verify(signed(DEV, c.now()));
    expect(result).toMatchObject({ verified: false, reason: 'key_log_unavailable' });
    expect(!result.verified && result.detail).toMatch(/is not the pinned root/);
  });

  it('without a pin, trusts the first root it sees and refuses a log rooted elsewhere later', async () => {
    const next = newKey('next');
    const pub = publisher([DEV, next], await chainOf([]));
    const { verifier, c } = verifierFor(pub);
    expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({ verified: true });
    // A stolen API token replaces the whole log with one rooted at its own key.
    let forged = await startKeyLog('default', signer(next), AT);
    forged = { ...forged };
    pub.state.log = serializeKeyLog(forged);
    c.advance(60);
    const result = await verifier.verify(signed(next, c.now()));
    expect(result).toMatchObject({ verified: false, reason: 'unendorsed_key' });
    expect(!result.verified && result.detail).toMatch(/is not the first-seen root/);
    // The key it had checked still verifies.
    expect(await verifier.verify(signed(DEV, c.now()))).toMatchObject({ verified: true });
  });

  it('refuses a key whose endorsement does not verify, or whose published x is not the endorsed one', async () => {
    const next = newKey('next');
    const log = await chainOf([next]);
    const entry = log.entries[0];
    if (!entry) throw new Error('no entry');
    const tampered = {
      ...log,
      entries: [{ ...entry, sig: entry.sig.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')) }],
    };
    const pub = publisher([DEV, next], tampered);
    const { verifier, c } = verifierFor(pub, { rootFingerprint: log.root_fingerprint });
    const bad = await verifier.verify(signed(next, c.now()));
    expect(bad).toMatchObject({ verified: false, reason: 'key_log_unavailable' });
    expect(!bad.verified && bad.detail).toMatch(/entry 1 \(next\) is not signed/);
    // The JWK replaced for an endorsed kid (same kid, another key): refused.
    const swapped = { ...newKey('next'), kid: 'next' };
    const pub2 = publisher([DEV, swapped], log);
    const second = verifierFor(pub2, { rootFingerprint: log.root_fingerprint });
    const result = await second.verifier.verify(signed(swapped, second.c.now()));
    expect(result).toMatchObject({ verified: false, reason: 'unendorsed_key' });
    expect(!result.verified && result.detail).toMatch(/another public key/);
  });

  it('a publisher without a log: every key refused with a hint, unless keyLog is false', async () => {
    const pub = publisher([DEV], null);
    const { verifier, c } = verifierFor(pub);
    const result = await verifier.verify(signed(DEV, c.now()));
    expect(result).toMatchObject({ verified: false, reason: 'key_log_unavailable' });
    expect(!result.verified && result.detail).toMatch(/keyLog: false/);
    const off = verifierFor(pub, false);
    expect(await off.verifier.verify(signed(DEV, off.c.now()))).toMatchObject({ verified: true });
  });

  it('follows a chain past checkpoints (100 rotations), and a cached verifier follows the folds', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => newKey(`k${i}`));
    const pub = publisher([DEV, ...keys.slice(0, 3)], await chainOf(keys.slice(0, 3)));
    const early = verifierFor(pub);
    const k2 = keys[2] as TestKey;
    expect(await early.verifier.verify(signed(k2, early.c.now()))).toMatchObject({
      verified: true,
    });
    const log = await chainOf(keys);
    expect(log.checkpoint).not.toBeNull();
    const last = keys[99] as TestKey;
    pub.state.keys = [DEV, last];
    pub.state.log = serializeKeyLog(log);
    early.c.advance(120);
    // The verifier that saw the chain early follows it past the folds, and a fresh one pinned to
    // the root does too.
    expect(await early.verifier.verify(signed(last, early.c.now()))).toMatchObject({
      verified: true,
    });
    const fresh = verifierFor(pub, { rootFingerprint: log.root_fingerprint });
    expect(await fresh.verifier.verify(signed(last, fresh.c.now()))).toMatchObject({
      verified: true,
    });
    // A checkpoint that gives a key the early verifier knew another public key is refused.
    const c = log.checkpoint;
    if (!c) throw new Error('no checkpoint');
    pub.state.log = serializeKeyLog({
      ...log,
      checkpoint: { ...c, keys: [...c.keys, { kid: k2.kid, x: DEV.x }] },
    });
    early.c.advance(120);
    const stranger = newKey('stranger');
    pub.state.keys = [DEV, last, stranger];
    const refused = await early.verifier.verify(signed(stranger, early.c.now()));
    expect(refused).toMatchObject({ verified: false, reason: 'unendorsed_key' });
  });

  it('derives the log URL next to the key document', () => {
    expect(keyLogUrlFor(DISCOVERY)).toBe(LOG_URL);
    expect(keyLogUrlFor('https://p.example/.well-known/jwks.json')).toBe(
      LOG_URL.replace('publisher.example', 'p.example'),
    );
    expect(keyLogUrlFor('https://p.example/.well-known/deployments/eu/trusted-server.json')).toBe(
      'https://p.example/.well-known/deployments/eu/key-log.json',
    );
    expect(() =>
      createVerifier({ discoveryUrl: DISCOVERY, host: HOST, keyLog: { rootFingerprint: 'short' } }),
    ).toThrow(/43 base64url characters/);
  });

  it('costs next to nothing per verification once the chain is checked (measured)', async () => {
    const next = newKey('next');
    const log = await chainOf([next]);
    const pub = publisher([DEV, next], log);
    const on = verifierFor(pub, { rootFingerprint: log.root_fingerprint }, { maxAgeSeconds: 1e9 });
    const off = verifierFor(pub, false, { maxAgeSeconds: 1e9 });
    const s = signed(next, on.c.now());
    const t0 = performance.now();
    expect(await on.verifier.verify(s)).toMatchObject({ verified: true });
    const firstMs = performance.now() - t0;
    await off.verifier.verify(s);
    const N = 300;
    const time = async (v: typeof on.verifier): Promise<number> => {
      const start = performance.now();
      for (let i = 0; i < N; i++) await v.verify(s);
      return (performance.now() - start) / N;
    };
    // Interleaved rounds, the best of each, so load on the machine hits both alike.
    const rounds = { on: Infinity, off: Infinity };
    for (let r = 0; r < 3; r++) {
      rounds.off = Math.min(rounds.off, await time(off.verifier));
      rounds.on = Math.min(rounds.on, await time(on.verifier));
    }
    expect(pub.state.logFetches).toBe(1);
    // The check itself, alone: what the chain adds to a verification once it is checked.
    const chain = new KeyLogChain({
      url: LOG_URL,
      fetch: pub.fetch,
      now: on.c.now,
      cooldownMs: 30_000,
      timeoutMs: 0,
    });
    const raw = new Uint8Array(Buffer.from(next.x, 'base64url'));
    expect(await chain.check(next.kid, raw)).toEqual({ ok: true });
    const M = 20_000;
    const start = performance.now();
    for (let i = 0; i < M; i++) await chain.check(next.kid, raw);
    const checkUs = ((performance.now() - start) / M) * 1000;
    expect(pub.state.logFetches).toBe(2);
    console.log(
      `key log chain: first verification ${firstMs.toFixed(2)} ms (log fetch + chain check); after it the chain check costs ${checkUs.toFixed(2)} µs per verification (a verification: ${(rounds.on * 1000).toFixed(0)} µs with the chain, ${(rounds.off * 1000).toFixed(0)} µs without, under this machine's load)`,
    );
    // A Map lookup and 32 bytes to base64url, no signature and no fetch: far below the
    // signature check (hundreds of µs), whatever the load on the machine.
    expect(checkUs).toBeLessThan(50);
  });
});
