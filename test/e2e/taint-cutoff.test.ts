// The compromise runbook played as an attack against the real edge (the local Fastly API and the
// app, on Node, or bin/main.wasm in the parity run): the development key leaks; the operator
// activates a successor and taints it. A forgery the attacker makes with the leaked key after the
// taint cutoff is refused by `/verify-signature` and by the partner verifier; the honest request
// signed before the taint still verifies with both; removal after the grace period finishes it
// (docs/taint-cutoff.md).
import { afterEach, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.js';
import { DEV_KEY } from '../support/app.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { signedAt } from '../support/taint.js';

const BASE = '/admin/deployments/default/keysets';

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

async function ok<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  const body = (await r.json()) as T;
  expect(r.status, JSON.stringify(body)).toBeLessThan(300);
  return body;
}

describe('a leaked key, tainted: the cutoff on the real edge', () => {
  it('refuses forgeries after the cutoff at the edge and in the verifier; honest requests from before still verify', async () => {
    const e = (edge = await startTestEdge());
    const host = e.settings.publisher.domain;
    // The partner's clock can be moved ahead of the edge's, so a forgery dated after the cutoff
    // is not "in the future" for it.
    let offsetMs = 0;
    const verifier = createVerifier({
      discoveryUrl: `${e.edgeUrl}/.well-known/trusted-server.json`,
      host,
      now: () => Date.now() + offsetMs,
    });
    const atEdge = async (s: Signed) =>
      ok<Record<string, unknown>>(e.call('/verify-signature', { json: s, auth: false }));

    // An honest request, signed by the edge with the key that is about to leak.
    const honest = await ok<Signed>(e.call('/admin/keys/sign', { json: { id: 'honest' } }));
    expect(honest.kid).toBe(DEV_KEY.kid);

    // The runbook: activate a successor (rotate), then taint the leaked key.
    await ok(e.call('/admin/keys/rotate', { json: {} }));
    const before = Date.now();
    const tainted = await ok<{ keyset: { taint_cutoff: string; tainted_at: string } }>(
      e.call(`${BASE}/${DEV_KEY.kid}/taint`, { method: 'POST' }),
    );
    const after = Date.now();
    const cutoffMs = Date.parse(tainted.keyset.taint_cutoff);
    expect(cutoffMs - Date.parse(tainted.keyset.tainted_at)).toBe(60_000);
    expect(Date.parse(tainted.keyset.tainted_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(tainted.keyset.tainted_at)).toBeLessThanOrEqual(after + 1000);

    // Published for partners, in the stored discovery document.
    const doc = await ok<{ tainted_kids: string[]; taint_cutoffs: Record<string, string> }>(
      e.call('/.well-known/trusted-server.json', { auth: false }),
    );
    expect(doc.tainted_kids).toEqual([DEV_KEY.kid]);
    expect(doc.taint_cutoffs).toEqual({ [DEV_KEY.kid]: tainted.keyset.taint_cutoff });

    // The attacker signs with the leaked seed, dated now (after the taint) and just at the cutoff.
    offsetMs = cutoffMs + 5_000 - Date.now();
    const forgedNow = signedAt(DEV_KEY, cutoffMs + 5_000, host);
    const forgedAtCutoff = signedAt(DEV_KEY, cutoffMs, host);
    for (const forged of [forgedNow, forgedAtCutoff]) {
      expect(await atEdge(forged)).toMatchObject({
        verified: false,
        error: 'signed_after_taint_cutoff',
        state: 'TAINTED',
        taint_cutoff: tainted.keyset.taint_cutoff,
      });
      expect(await verifier.verify(forged)).toMatchObject({
        verified: false,
        reason: 'signed_after_taint_cutoff',
        keyState: 'tainted',
      });
    }
    // One signed just before the cutoff (a signer whose clock ran ahead) still verifies.
    const skewed = signedAt(DEV_KEY, cutoffMs - 1, host);
    expect(await atEdge(skewed)).toMatchObject({ verified: true, state: 'TAINTED' });
    expect(await verifier.verify(skewed)).toMatchObject({ verified: true, keyState: 'tainted' });

    // The honest request in flight verifies with both.
    expect(await atEdge(honest)).toMatchObject({ verified: true, state: 'TAINTED' });
    expect(await verifier.verify(honest)).toMatchObject({ verified: true, keyState: 'tainted' });

    // After the grace period the key is removed: now nothing it signed verifies anywhere.
    await ok(e.call(`${BASE}/${DEV_KEY.kid}`, { method: 'DELETE' }));
    const gone = await e.call('/verify-signature', { json: honest, auth: false });
    expect(gone.status).toBe(404);
    offsetMs += 120_000; // past the partner's cache (max-age=60) and its unknown-kid cooldown
    expect(await verifier.verify(honest)).toMatchObject({
      verified: false,
      reason: 'unknown_kid',
    });
  });
});
