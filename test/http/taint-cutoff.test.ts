// The taint cutoff played as an attack, in-process (test/support/app.ts): the development key is
// rotated away from and tainted; a forgery dated after its cutoff is refused by
// `/verify-signature`, an honest payload from before the taint still verifies (docs/taint-cutoff.md).
import { describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { encodeSeed } from '../../src/core/keys/seed-encoding.js';
import { DEV_KEY, operatorApp } from '../support/app.js';
import { signedAt, signWithSeed } from '../support/taint.js';

const BASE = '/admin/deployments/default/keysets';
const T0 = Date.parse('2026-11-22T09:00:00.000Z');
/** When the development key is tainted; its cutoff is a minute later by default. */
const TAINT = Date.parse('2026-11-22T10:00:00.000Z');
const CUTOFF = TAINT + 60_000;
const CUTOFF_ISO = '2026-11-22T10:01:00.000Z';

interface VerifyAnswer {
  verified: boolean;
  kid: string;
  message: string;
  error?: string;
  state: string;
  taint_cutoff?: string;
}

/** The development key signing before a rotation, then tainted at TAINT. */
async function taintedWorld(settings?: Record<string, unknown>) {
  const world = await operatorApp({ now: T0, ...(settings ? { settings } : {}) });
  const { services, send } = world;
  expect((await send('/admin/keys/rotate', { json: {} })).status).toBe(200);
  services.now = TAINT;
  const tainted = await send<{
    keyset: { state: string; tainted_at: string; taint_cutoff: string };
  }>(`${BASE}/${DEV_KEY.kid}/taint`, { method: 'POST' });
  expect(tainted.status).toBe(200);
  const verify = async (body: { payload: string; signature: string; kid: string }) => {
    const res = await world.app.request('/verify-signature', { json: body });
    expect(res.status).toBe(200);
    return (await res.json()) as VerifyAnswer;
  };
  return { ...world, tainted: tainted.body.keyset, verify };
}

describe('/verify-signature applies a tainted key’s cutoff', () => {
  it('records the taint time and the cutoff on the key set', async () => {
    const { tainted } = await taintedWorld();
    expect(tainted).toMatchObject({
      state: 'TAINTED',
      tainted_at: '2026-11-22T10:00:00.000Z',
      taint_cutoff: CUTOFF_ISO,
    });
  });

  it('refuses a forgery dated after the cutoff, naming the cutoff', async () => {
    const { verify, services } = await taintedWorld();
    services.now = TAINT + 3_600_000;
    const forged = signedAt(DEV_KEY, TAINT + 3_600_000);
    expect(await verify(forged)).toEqual({
      verified: false,
      kid: DEV_KEY.kid,
      message:
        "Signature verification failed: key ts-2025-10-A is tainted: the payload's ts 2026-11-22T11:00:00.000Z is not before its taint cutoff 2026-11-22T10:01:00.000Z",
      error: 'signed_after_taint_cutoff',
      state: 'TAINTED',
      taint_cutoff: CUTOFF_ISO,
    });
    expect(services.logs.filter((l) => l['event'] === 'verify').at(-1)).toMatchObject({
      outcome: 'signed_after_taint_cutoff',
    });
  });

  it('verifies an honest payload signed before the taint, and one whose clock ran ahead within the skew', async () => {
    const { verify } = await taintedWorld();
    for (const ts of [TAINT - 120_000, TAINT, TAINT + 30_000, CUTOFF - 1]) {
      expect(await verify(signedAt(DEV_KEY, ts)), String(ts)).toEqual({
        verified: true,
        kid: DEV_KEY.kid,
        message: 'Signature verified successfully',
        state: 'TAINTED',
        taint_cutoff: CUTOFF_ISO,
      });
    }
  });

  it('refuses a payload dated exactly at the cutoff (only what is before it verifies)', async () => {
    const { verify } = await taintedWorld();
    expect(await verify(signedAt(DEV_KEY, CUTOFF))).toMatchObject({
      verified: false,
      error: 'signed_after_taint_cutoff',
    });
  });

  it('still checks the signature of a payload before the cutoff', async () => {
    const { verify } = await taintedWorld();
    const honest = signedAt(DEV_KEY, TAINT - 1000);
    const other = signedAt(DEV_KEY, TAINT - 2000);
    expect(await verify({ ...honest, signature: other.signature })).toMatchObject({
      verified: false,
      error: 'Invalid signature',
      taint_cutoff: CUTOFF_ISO,
    });
  });

  it('refuses a payload of a tainted key without a usable ts, with its own reason', async () => {
    const { verify } = await taintedWorld();
    const early = TAINT - 1000;
    const texts = [
      'hello',
      `{"version":"1.1","kid":"${DEV_KEY.kid}","id":"r"}`,
      // Whitespace, a repeated ts: parsers may read another ts than the service does.
      `{"version":"1.1","ts": ${early}}`,
      `{"ts":${early},"ts":${CUTOFF + 3_600_000}}`,
    ];
    for (const payload of texts) {
      const answer = await verify({
        payload,
        signature: signWithSeed(DEV_KEY.storedSeed, payload),
        kid: DEV_KEY.kid,
      });
      expect(answer, payload).toMatchObject({
        verified: false,
        error: 'tainted_key_payload_without_ts',
        taint_cutoff: CUTOFF_ISO,
      });
      expect(answer.message).toContain('Unix milliseconds, is before its taint cutoff');
    }
  });

  it('leaves untainted keys as they were: any payload text verifies, no cutoff in the answer', async () => {
    const { app, send } = await operatorApp({ now: T0 });
    const payload = 'not a v1.1 payload at all';
    const res = await app.request('/verify-signature', {
      json: { payload, signature: signWithSeed(DEV_KEY.storedSeed, payload), kid: DEV_KEY.kid },
    });
    expect(await res.json()).toEqual({
      verified: true,
      kid: DEV_KEY.kid,
      message: 'Signature verified successfully',
      state: 'ACTIVE',
    });
    // A key the schedule or an operator leaves PREPARED is not tainted either.
    await send('/admin/keys/rotate', { json: {} });
    const late = signedAt(DEV_KEY, T0 + 86_400_000);
    const prepared = await app.request('/verify-signature', { json: late });
    expect(await prepared.json()).toMatchObject({ verified: true, state: 'PREPARED' });
  });

  it('publishes the cutoff in the discovery document, stored and rendered alike', async () => {
    const { app, services } = await taintedWorld();
    const stored = await (await app.request('/.well-known/trusted-server.json')).text();
    expect(JSON.parse(stored)).toMatchObject({
      tainted_kids: [DEV_KEY.kid],
      taint_cutoffs: { [DEV_KEY.kid]: CUTOFF_ISO },
    });
    // Without the stored item the edge renders from the keyring: the same bytes.
    services.config.get(STORE_NAMES.jwks)?.delete('discovery-document');
    const rendered = await (await app.request('/.well-known/trusted-server.json')).text();
    expect(rendered).toBe(stored);
    const jwks = await (await app.request('/.well-known/jwks.json')).json();
    expect(jwks).not.toHaveProperty('taint_cutoffs');
  });

  it('honours the configured skew', async () => {
    const { verify, tainted } = await taintedWorld({
      publisher: { domain: 'publisher.example' },
      request_signing: {
        config_store_id: 'cfg-default',
        secret_store_id: 'sec-default',
        lock_store_id: 'kv-locks',
      },
      verify: { taint_cutoff_skew_seconds: 0 },
    });
    expect(tainted.taint_cutoff).toBe('2026-11-22T10:00:00.000Z');
    expect(await verify(signedAt(DEV_KEY, TAINT - 1))).toMatchObject({ verified: true });
    expect(await verify(signedAt(DEV_KEY, TAINT))).toMatchObject({
      verified: false,
      error: 'signed_after_taint_cutoff',
    });
  });

  it('a restore un-taints the key: its cutoff goes with the taint, and what it signs verifies again', async () => {
    const { verify, send, app, services } = await taintedWorld();
    const late = signedAt(DEV_KEY, TAINT + 3_600_000);
    expect(await verify(late)).toMatchObject({ error: 'signed_after_taint_cutoff' });
    services.now = TAINT + 3_600_000;
    await send(`${BASE}/${DEV_KEY.kid}/deactivate`, { method: 'POST' });
    expect(await verify(late)).toMatchObject({ verified: false, error: 'Key is deactivated' });
    const restored = await send<{ keyset: Record<string, unknown> }>(
      `${BASE}/${DEV_KEY.kid}/restore`,
      { method: 'POST' },
    );
    expect(restored.body.keyset).toMatchObject({ state: 'PREPARED' });
    expect(restored.body.keyset).not.toHaveProperty('taint_cutoff');
    expect(await verify(late)).toEqual({
      verified: true,
      kid: DEV_KEY.kid,
      message: 'Signature verified successfully',
      state: 'PREPARED',
    });
    const doc = (await (await app.request('/.well-known/trusted-server.json')).json()) as Record<
      string,
      unknown
    >;
    expect([doc['tainted_kids'], doc['taint_cutoffs']]).toEqual([[], {}]);
  });

  it('keeps the cutoff when Trusted Server’s own rotate drifts the store and the next change folds it', async () => {
    const { services, send, verify } = await taintedWorld();
    // Trusted Server's rotate, written straight into the stores: a new secret, JWK, current kid.
    const seed = new Uint8Array(32).fill(7);
    services.secrets.get(STORE_NAMES.signingKeys)?.set('ts-own', encodeSeed(seed));
    const items = services.config.get(STORE_NAMES.jwks) ?? new Map<string, string>();
    items.set('ts-own', JSON.stringify(publicJwk('ts-own', await publicKeyOf(seed))));
    items.set('active-kids', `${items.get('active-kids') ?? ''},ts-own`);
    items.set('current-kid', 'ts-own');
    const late = signedAt(DEV_KEY, TAINT + 3_600_000);
    // Before the fold: the edge reads the drifted stores and still applies the keyring's cutoff.
    expect(await verify(late)).toMatchObject({ error: 'signed_after_taint_cutoff' });
    // The next change folds the drift in (no taint, no new cutoff) and keeps DEV's.
    services.now = TAINT + 7_200_000;
    expect((await send(BASE, { json: { kid: 'spare' } })).status).toBe(201);
    const listed = await send<{ keysets: Array<Record<string, unknown>> }>(BASE);
    expect(listed.body.keysets.find((k) => k['id'] === DEV_KEY.kid)).toMatchObject({
      state: 'TAINTED',
      taint_cutoff: CUTOFF_ISO,
    });
    expect(await verify(late)).toMatchObject({ error: 'signed_after_taint_cutoff' });
    expect(await verify(signedAt(DEV_KEY, TAINT - 1000))).toMatchObject({ verified: true });
  });

  it('a current-kid written to name the tainted key makes it ACTIVE at the edge: Trusted Server signs with it, so no cutoff', async () => {
    const { services, verify, app } = await taintedWorld();
    services.config.get(STORE_NAMES.jwks)?.set('current-kid', DEV_KEY.kid);
    expect(await verify(signedAt(DEV_KEY, TAINT + 3_600_000))).toMatchObject({
      verified: true,
      state: 'ACTIVE',
    });
    // The stored document follows active-kids only, which did not change: partners keep the
    // cutoff until the next change folds the drift in.
    const doc = await (await app.request('/.well-known/trusted-server.json')).json();
    expect(doc).toMatchObject({
      tainted_kids: [DEV_KEY.kid],
      taint_cutoffs: { [DEV_KEY.kid]: CUTOFF_ISO },
    });
  });

  it('a key the schedule taints gets its cutoff from the time of the run', async () => {
    const { services, send } = await operatorApp({ now: T0 });
    await send('/admin/keys/rotate', { json: {} });
    // 30 days after it stopped signing the schedule taints it (and prepares a successor).
    const runAt = T0 + 31 * 86_400_000;
    services.now = runAt;
    const run = await send<{ applied: Array<{ operation: string; keyset: string }> }>(
      '/admin/deployments/default/schedule/run',
      { method: 'POST' },
    );
    expect(run.status).toBe(200);
    expect(run.body.applied).toContainEqual(
      expect.objectContaining({ operation: 'taint', keyset: DEV_KEY.kid }),
    );
    const listed = await send<{ keysets: Array<Record<string, unknown>> }>(`${BASE}`);
    expect(listed.body.keysets.find((k) => k['id'] === DEV_KEY.kid)).toMatchObject({
      state: 'TAINTED',
      tainted_at: new Date(runAt).toISOString(),
      taint_cutoff: new Date(runAt + 60_000).toISOString(),
    });
  });
});
