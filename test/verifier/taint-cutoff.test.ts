// The partner verifier applies the publisher's taint cutoffs (the discovery document's
// `taint_cutoffs`): a leaked, tainted key's new forgeries are refused, requests it signed before
// the taint verify. Against a scripted publisher; the real service is in rotation.e2e.test.ts.
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  type VerifierOptions,
  type VerifyResult,
} from '../../src/verifier/index.js';
import { clock, DEV, HOST, newKey, publicJwk, publisher, signed } from './support.js';

const URL_ = 'https://publisher.example/.well-known/trusted-server.json';
const reason = (r: VerifyResult): string => (r.verified ? 'verified' : r.reason);

/** The verifier's clock starts at NOW; the development key was tainted a minute before. */
const NOW = 1_763_800_000_000;
const CUTOFF = NOW;
const CUTOFF_ISO = new Date(CUTOFF).toISOString();

function world(
  options: Partial<VerifierOptions> = {},
  cutoffs: unknown = { [DEV.kid]: CUTOFF_ISO },
) {
  const successor = newKey('ts-2026-11-22');
  const pub = publisher([DEV]);
  pub.setBody(
    JSON.stringify({
      version: '1.0',
      jwks: { keys: [publicJwk(DEV), publicJwk(successor)] },
      keyring_version: 9,
      tainted_kids: [DEV.kid],
      taint_cutoffs: cutoffs,
    }),
  );
  const c = clock(NOW);
  const verifier = createVerifier({
    discoveryUrl: URL_,
    host: HOST,
    fetch: pub.fetch,
    now: c.now,
    // This publisher serves no key log (test/verifier/key-log-chain.test.ts covers the chain).
    keyLog: false,
    ...options,
  });
  return { verifier, successor, clock: c };
}

describe('the verifier applies the taint cutoff (on by default)', () => {
  it('verifies what the tainted key signed before its cutoff, as tainted', async () => {
    const { verifier } = world();
    for (const ts of [NOW - 200_000, CUTOFF - 1]) {
      expect(await verifier.verify(signed(DEV, ts)), String(ts)).toMatchObject({
        verified: true,
        kid: DEV.kid,
        keyState: 'tainted',
      });
    }
  });

  it('refuses a forgery dated at or after the cutoff, naming the cutoff', async () => {
    const { verifier, clock: c } = world();
    expect(await verifier.verify(signed(DEV, CUTOFF))).toEqual({
      verified: false,
      reason: 'signed_after_taint_cutoff',
      detail: `key "${DEV.kid}" is tainted: the payload's ts ${CUTOFF_ISO} is not before its taint cutoff ${CUTOFF_ISO}`,
      kid: DEV.kid,
      keyState: 'tainted',
    });
    c.advance(3600);
    expect(reason(await verifier.verify(signed(DEV, NOW + 3_600_000)))).toBe(
      'signed_after_taint_cutoff',
    );
  });

  it('still checks the signature of a payload before the cutoff, and leaves untainted keys alone', async () => {
    const { verifier, successor } = world();
    const honest = signed(DEV, NOW - 1000);
    const other = signed(DEV, NOW - 2000);
    expect(reason(await verifier.verify({ ...honest, signature: other.signature }))).toBe(
      'invalid_signature',
    );
    expect(await verifier.verify(signed(successor, NOW))).toMatchObject({
      verified: true,
      keyState: 'published',
    });
  });

  it('allowTainted: false refuses every tainted key; true does not lift the cutoff', async () => {
    const strict = world({ allowTainted: false }).verifier;
    expect(reason(await strict.verify(signed(DEV, NOW - 1000)))).toBe('tainted_key');
    const lax = world({ allowTainted: true }).verifier;
    expect(reason(await lax.verify(signed(DEV, NOW - 1000)))).toBe('verified');
    expect(reason(await lax.verify(signed(DEV, CUTOFF)))).toBe('signed_after_taint_cutoff');
    const { verifier } = world();
    expect(reason(await verifier.verify({ ...signed(DEV, NOW - 1000), allowTainted: false }))).toBe(
      'tainted_key',
    );
  });

  it('enforceTaintCutoff: false goes back to tainted keys refused unless allowed', async () => {
    const off = world({ enforceTaintCutoff: false }).verifier;
    expect(reason(await off.verify(signed(DEV, NOW - 1000)))).toBe('tainted_key');
    expect(reason(await off.verify({ ...signed(DEV, CUTOFF), allowTainted: true }))).toBe(
      'verified',
    );
  });

  it('a tainted key without a published cutoff is refused as before', async () => {
    const { verifier } = world({}, {});
    expect(reason(await verifier.verify(signed(DEV, NOW - 1000)))).toBe('tainted_key');
    // A cutoff for a key the document does not list as tainted is not applied.
    const { verifier: v2, successor } = world({}, { 'ts-2026-11-22': CUTOFF_ISO });
    expect(reason(await v2.verify(signed(successor, CUTOFF)))).toBe('verified');
  });

  it('refuses a document whose taint_cutoffs is malformed, saying so', async () => {
    for (const bad of [['x'], 'all', { [DEV.kid]: 1763800000000 }, { [DEV.kid]: 'yesterday' }]) {
      const result = await world({}, bad).verifier.verify(signed(DEV, NOW - 1000));
      expect(result, JSON.stringify(bad)).toMatchObject({
        verified: false,
        reason: 'keys_unavailable',
      });
      expect(!result.verified && result.detail).toContain('malformed taint_cutoffs');
    }
  });

  it('refuses an enforceTaintCutoff that is not a boolean', () => {
    const pub = publisher([DEV]);
    expect(() =>
      createVerifier({
        discoveryUrl: URL_,
        host: HOST,
        fetch: pub.fetch,
        enforceTaintCutoff: 'yes' as unknown as boolean,
      }),
    ).toThrow(/enforceTaintCutoff must be true or false/);
  });
});
