// The verifier against the real local edge (local Fastly API + the app), played through a full
// key rotation cycle: SPIRL's prepare → activate → taint → deactivate → remove, then Trusted
// Server's immediate rotate and delete. At every step the verifier must accept every signature
// made by a published, non-removed key (no outage), refuse the rest with the right reason, and
// fetch the discovery document only as its contract says: once per max-age=60 the edge sends
// (a conditional request), plus at most one refetch per cooldown for a kid it does not know.
// The partner's clock is virtual (real time plus an offset), so cache expiry costs no waiting.
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier, type VerifyResult } from '../../src/verifier/index.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const BASE = '/admin/deployments/default/keysets';
const DEV_KID = 'ts-2025-10-A';

let edge: TestEdge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

interface Signed {
  payload: string;
  signature: string;
  kid: string;
}

/** A partner: the verifier, its virtual clock and every fetch it made. */
function partner(e: TestEdge, options: { cooldownSeconds?: number } = {}) {
  let offsetMs = 0;
  const fetches: Array<number | 'error'> = [];
  const verifier = createVerifier({
    discoveryUrl: `${e.edgeUrl}/.well-known/trusted-server.json`,
    host: e.settings.publisher.domain,
    // Signatures are replayed across the cycle, minutes of virtual time apart.
    maxAgeSeconds: 3600,
    now: () => Date.now() + offsetMs,
    // The cycle starts on a deployment with no key log yet; key-log.e2e.test.ts checks the chain.
    keyLog: false,
    fetch: async (url, init) => {
      try {
        const response = await fetch(url, init);
        fetches.push(response.status);
        return response;
      } catch (err) {
        fetches.push('error');
        throw err;
      }
    },
    ...options,
  });
  return {
    verifier,
    fetches,
    /** Lets the partner's cache age: the edge says max-age=60. */
    wait(seconds: number) {
      offsetMs += seconds * 1000;
    },
  };
}

async function ok(res: Response | Promise<Response>): Promise<unknown> {
  const r = await res;
  const body = await r.json();
  expect(r.status, JSON.stringify(body)).toBeLessThan(300);
  return body;
}

describe('the verifier through a full rotation cycle on the local edge', () => {
  it('follows every step with no failure for a published key and only the contracted fetches', async () => {
    const e = (edge = await startTestEdge());
    const p = partner(e);
    const sign = async (): Promise<Signed> =>
      (await ok(e.call('/admin/keys/sign', { json: { id: 'req' } }))) as Signed;
    // Every verification of a signature whose key is published and not tainted must succeed.
    const tally = { published: 0, failures: 0 };
    const expectVerified = async (s: Signed): Promise<VerifyResult> => {
      const r = await p.verifier.verify({ payload: s.payload, signature: s.signature });
      // The documents allow stale-while-revalidate: a refetch may run behind the answer. Let it
      // finish, so the fetches below are counted where they happen.
      await p.verifier.idle();
      tally.published += 1;
      if (!r.verified) tally.failures += 1;
      expect(r).toMatchObject({ verified: true, kid: s.kid });
      return r;
    };
    const refused = async (s: Signed, reason: string) => {
      expect(await p.verifier.verify(s)).toMatchObject({ verified: false, reason, kid: s.kid });
      await p.verifier.idle();
    };

    // 0. The first verification fetches the document.
    const a1 = await sign();
    expect(a1.kid).toBe(DEV_KID);
    await expectVerified(a1);
    expect(p.fetches).toEqual([200]);

    // 1. prepare: the next key is published, not signing. Within max-age nothing is fetched;
    //    after it, one conditional request brings the new key (a new version: 200).
    const k2 = (
      (await ok(e.call(BASE, { json: { kid: 'ts-2026-q4' } }))) as { keyset: { id: string } }
    ).keyset.id;
    await expectVerified(a1);
    expect(p.fetches).toEqual([200]);
    p.wait(61);
    await expectVerified(await sign());
    expect(p.fetches).toEqual([200, 200]);

    // 2. activate: the new key signs. The partner already has it: no fetch, no outage, and a
    //    signature the old key made just before still verifies.
    //    (The partner's clock moved past max-age; the edge's cannot, so the dwell is forced.)
    await ok(e.call(`${BASE}/${k2}/activate`, { json: { force: true } }));
    const b1 = await sign();
    expect(b1.kid).toBe(k2);
    await expectVerified(b1);
    await expectVerified(a1);
    expect(p.fetches).toEqual([200, 200]);

    // 3. taint the old key: once the partner's copy is refetched, what it signed before the taint
    //    cutoff still verifies, as tainted (forgeries after it: test/e2e/taint-cutoff.test.ts);
    //    a caller that refuses tainted keys refuses it.
    await ok(e.call(`${BASE}/${DEV_KID}/taint`, { method: 'POST' }));
    p.wait(61);
    await expectVerified(b1);
    expect(p.fetches).toEqual([200, 200, 200]);
    expect(await p.verifier.verify({ ...a1, allowTainted: false })).toMatchObject({
      verified: false,
      reason: 'tainted_key',
      keyState: 'tainted',
    });
    expect(await expectVerified(a1)).toMatchObject({ keyState: 'tainted' });
    expect(p.fetches).toEqual([200, 200, 200]);

    // 4. deactivate: unpublished. After the refetch its signatures are an unknown kid; the
    //    first costs one refetch (nothing changed: 304), the next ones nothing.
    await ok(e.call(`${BASE}/${DEV_KID}/deactivate`, { method: 'POST' }));
    p.wait(61);
    await expectVerified(b1);
    await refused(a1, 'unknown_kid');
    await refused(a1, 'unknown_kid');
    expect(p.fetches).toEqual([200, 200, 200, 200, 304]);

    // 5. remove: gone for good. The document changes again (a new version); the removed key's
    //    signature is an unknown kid again, worth one refetch since the cooldown has passed.
    await ok(e.call(`${BASE}/${DEV_KID}`, { method: 'DELETE' }));
    p.wait(61);
    await expectVerified(b1);
    await refused(a1, 'unknown_kid');
    expect(p.fetches).toEqual([200, 200, 200, 200, 304, 200, 304]);

    // 6. Trusted Server's rotate: a new key signs at once, unseen by the partner. Its first
    //    signature costs one refetch and verifies: no outage. That refetch needs the cooldown
    //    since the last unknown-kid refetch (step 5) to have passed, which is the price of not
    //    letting made-up kids hammer the publisher (README "For partners": prepare first).
    p.wait(30);
    const rotated = (await ok(e.call('/admin/keys/rotate', { json: { kid: 'ts-2027-q1' } }))) as {
      new_kid: string;
    };
    const c1 = await sign();
    expect(c1.kid).toBe(rotated.new_kid);
    await expectVerified(c1);
    await expectVerified(b1);
    expect(p.fetches).toEqual([200, 200, 200, 200, 304, 200, 304, 200]);

    // 7. Trusted Server's delete of the previous key.
    await ok(e.call('/admin/keys/deactivate', { json: { kid: k2, delete: true } }));
    p.wait(61);
    await expectVerified(c1);
    await refused(b1, 'unknown_kid');
    await expectVerified(await sign());
    expect(p.fetches).toEqual([200, 200, 200, 200, 304, 200, 304, 200, 200, 304]);

    // The figures for the whole cycle: 6 fetches at max-age expiry (the first and one after each
    // change, all 200), 4 for unknown kids (one found the rotated key, 3 were 304), and no
    // failure among 13 verifications of signatures by published keys.
    expect(tally).toEqual({ published: 13, failures: 0 });
    expect(p.fetches).toHaveLength(10);
  });

  it('an unknown kid flood against the real edge costs one fetch per cooldown', async () => {
    const e = (edge = await startTestEdge());
    const p = partner(e, { cooldownSeconds: 30 });
    const a = (await ok(e.call('/admin/keys/sign', { json: { id: 'r' } }))) as Signed;
    await p.verifier.verify(a);
    // A valid-looking payload with a kid the edge never published, signed with garbage.
    const forged = (kid: string) => ({
      payload: a.payload.replace(`"${a.kid}"`, `"${kid}"`),
      signature: a.signature,
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => p.verifier.verify(forged(`forged-${i}`))),
    );
    expect(new Set(results.map((r) => (r.verified ? 'verified' : r.reason)))).toEqual(
      new Set(['unknown_kid']),
    );
    p.wait(10);
    await p.verifier.verify(forged('later'));
    expect(p.fetches).toEqual([200, 304]);
    p.wait(20);
    await p.verifier.verify(forged('after-cooldown'));
    expect(p.fetches).toEqual([200, 304, 304]);
  });

  it('serves the last good keys while the edge is down, up to the stale-if-error bound', async () => {
    const e = (edge = await startTestEdge());
    const p = partner(e);
    const a = (await ok(e.call('/admin/keys/sign', { json: { id: 'r' } }))) as Signed;
    expect(await p.verifier.verify(a)).toMatchObject({ verified: true, stale: false });
    await e.stop();
    edge = undefined;
    p.wait(61);
    expect(await p.verifier.verify(a)).toMatchObject({ verified: true, stale: true });
    // Inside stale-while-revalidate the refetch runs behind the answer: let it fail first.
    await p.verifier.idle();
    p.wait(250); // 311 s after the fetch: inside 60 s fresh + 300 s stale-if-error
    expect(await p.verifier.verify(a)).toMatchObject({ verified: true, stale: true });
    p.wait(50); // 361 s
    expect(await p.verifier.verify(a)).toMatchObject({
      verified: false,
      reason: 'keys_unavailable',
    });
    expect(p.fetches).toEqual([200, 'error', 'error', 'error']);
  });
});
