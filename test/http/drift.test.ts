// Drift and unusable keys through the routes, in-process (test/support/app.ts): Trusted Server's
// own writes are made straight into the in-memory stores (its rotate: secret, JWK item,
// active-kids, current-kid; its deactivate: active-kids), then this service is used.
import { describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { assertActivatable } from '../../src/core/keyring/key-material.js';
import { publicJwk } from '../../src/core/keys/jwk.js';
import { expectConsistent } from '../support/consistency.js';
import { encodeSeed } from '../../src/core/keys/seed-encoding.js';
import {
  DEV_KEY,
  testApp,
  type MemoryServices,
  operatorApp as operatorWorld,
} from '../support/app.js';

const D = '/admin/deployments/default';
/** Trusted Server's fastly.toml ts-2025-10-B: x is not an Ed25519 point, and it has no private key. */
const TS_B_JWK =
  '{"kty":"OKP","crv":"Ed25519","kid":"ts-2025-10-B","use":"sig","x":"HVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw"}';

interface Keyring {
  version: number;
  keysets: Array<{ id: string; state: string; unusable?: { code: string; reason: string } }>;
  drift?: Array<{ code: string; kid?: string }>;
}

async function setup(extra: Record<string, string> = {}) {
  const { services, send } = await operatorWorld({ config: { [STORE_NAMES.jwks]: extra } });
  return { services, send, items: jwks(services), secrets: signingKeys(services) };
}
const jwks = (s: MemoryServices): Map<string, string> => {
  const m = s.config.get(STORE_NAMES.jwks);
  if (!m) throw new Error('no jwks store');
  return m;
};
const signingKeys = (s: MemoryServices): Map<string, string> => {
  let m = s.secrets.get(STORE_NAMES.signingKeys);
  if (!m) s.secrets.set(STORE_NAMES.signingKeys, (m = new Map()));
  return m;
};

/** Trusted Server's rotate, in its order: secret, JWK item, active-kids, current-kid. */
async function tsRotate(
  items: Map<string, string>,
  secrets: Map<string, string>,
  kid: string,
  fill: number,
) {
  const seed = new Uint8Array(32).fill(fill);
  secrets.set(kid, encodeSeed(seed));
  const jwk = publicJwk(kid, await publicKeyOf(seed));
  items.set(kid, JSON.stringify({ kty: 'OKP', crv: 'Ed25519', kid, use: 'sig', x: jwk.x }));
  items.set('active-kids', `${items.get('active-kids')},${kid}`);
  items.set('current-kid', kid);
}

const states = (k: Keyring) => Object.fromEntries(k.keysets.map((s) => [s.id, s.state]));

describe('drift from Trusted Server’s own writes', () => {
  it('serves Trusted Server’s signing key at once, reports the drift, and folds it into the next change', async () => {
    const { services, send, items, secrets } = await setup();
    expect((await send('/admin/keys/rotate', { json: { kid: 'ours' } })).status).toBe(200);
    await tsRotate(items, secrets, 'ts-own', 7);

    // The edge: the JWKS has the kid Trusted Server signs with, and sign uses it.
    const doc = (await (await testApp(services).request('/.well-known/jwks.json')).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(doc.keys.map((k) => k.kid)).toEqual([DEV_KEY.kid, 'ours', 'ts-own']);
    const signed = await send<{ kid: string }>('/admin/keys/sign', { json: { id: 'r1' } });
    expect(signed.body.kid).toBe('ts-own');

    // The admin API: the keyring as the next change writes it, and the drift.
    const listed = await send<Keyring>(`${D}/keysets`);
    expect(listed.body.drift?.map((d) => [d.code, d.kid])).toEqual([['kid_added', 'ts-own']]);
    expect(states(listed.body)).toMatchObject({ ours: 'PREPARED', 'ts-own': 'ACTIVE' });
    const doctor = await send<{ findings: Array<{ code: string; kid?: string }> }>(`${D}/doctor`);
    expect(doctor.body.findings).toContainEqual(
      expect.objectContaining({ code: 'drift', kid: 'ts-own' }),
    );

    // The next change folds it: Trusted Server's signing key stays current, nothing is lost.
    const prepared = await send<{ folded: string[]; keyring: Keyring }>(`${D}/keysets`, {
      json: { kid: 'next' },
    });
    expect(prepared.status).toBe(201);
    expect(prepared.body.folded).toEqual([
      expect.stringContaining('ts-own is published and signing'),
    ]);
    expect(states(prepared.body.keyring)).toEqual({
      [DEV_KEY.kid]: 'PREPARED',
      ours: 'PREPARED',
      'ts-own': 'ACTIVE',
      next: 'PREPARED',
    });
    expect(items.get('current-kid')).toBe('ts-own');
    expect(items.get('active-kids')).toBe(`${DEV_KEY.kid},ours,ts-own,next`);
    expect(secrets.has('ts-own')).toBe(true);
    const audit = services.audits.at(-1);
    expect(audit).toMatchObject({ operation: 'prepare', folded: prepared.body.folded });
    // Folded: the list shows no drift any more.
    expect((await send<Keyring>(`${D}/keysets`)).body.drift).toBeUndefined();
    const store = services.keyStores.get('default');
    if (!store) throw new Error('no store');
    expectConsistent(store);
  });

  it('follows Trusted Server’s deactivate: the kid leaves the JWKS at once and is DEACTIVATED at the next change', async () => {
    const { services, send, items } = await setup();
    await send('/admin/keys/rotate', { json: { kid: 'ours' } });
    items.set('active-kids', 'ours'); // Trusted Server's deactivate of the dev key
    const doc = (await (await testApp(services).request('/.well-known/jwks.json')).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(doc.keys.map((k) => k.kid)).toEqual(['ours']);
    const verify = await testApp(services).request('/verify-signature', {
      json: { payload: 'x', signature: 'A'.repeat(86), kid: DEV_KEY.kid },
    });
    expect(await verify.json()).toMatchObject({ verified: false, error: 'Key is deactivated' });
    // A dry run previews the fold and writes nothing, like every other mutation's.
    const itemsBefore = JSON.stringify([...items].sort());
    const preview = await send<{ dry_run: boolean; committed: boolean; folded: string[] }>(
      `${D}/adopt?dry_run=true`,
      { json: {} },
    );
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ dry_run: true, committed: false });
    expect(preview.body.folded).toEqual([
      expect.stringContaining(`${DEV_KEY.kid} is PREPARED in the keyring`),
    ]);
    expect(JSON.stringify([...items].sort())).toBe(itemsBefore);
    const adopted = await send<{ committed: boolean; folded: string[]; keyring: Keyring }>(
      `${D}/adopt`,
      { json: {} },
    );
    expect(adopted.body.committed).toBe(true);
    expect(adopted.body.folded).toEqual([
      expect.stringContaining(`${DEV_KEY.kid} is PREPARED in the keyring`),
    ]);
    expect(states(adopted.body.keyring)).toEqual({ [DEV_KEY.kid]: 'DEACTIVATED', ours: 'ACTIVE' });
    expect(services.audits.at(-1)).toMatchObject({
      operation: 'adopt',
      folded: adopted.body.folded,
    });
    // Nothing left to fold: adopt again writes nothing.
    const again = await send<{ committed: boolean; keyring: Keyring }>(`${D}/adopt`, { json: {} });
    expect(again.body).toMatchObject({
      committed: false,
      keyring: { version: adopted.body.keyring.version },
    });
  });

  it('adopt --kid refuses a kid the stores do not name (404), writing nothing', async () => {
    const { send, items } = await setup();
    const before = [...items];
    const res = await send<{ code: string }>(`${D}/adopt`, { json: { kid: 'nobody' } });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('keyset_not_found');
    expect([...items]).toEqual(before);
  });

  it('refuses any change but rotate/activate while current-kid names a kid with no JWK (it would delete current-kid)', async () => {
    const { send, items } = await setup();
    await send('/admin/keys/rotate', { json: { kid: 'ours' } });
    items.set('current-kid', 'ghost');
    const res = await send<{ code: string }>(`${D}/keysets`, { json: {} });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('drift_unfoldable');
    expect(items.get('current-kid')).toBe('ghost');
    // A rotate names a new signing key: allowed, and it mends the store.
    const rotated = await send<{ new_kid: string }>('/admin/keys/rotate', { json: {} });
    expect(rotated.status).toBe(200);
    expect(items.get('current-kid')).toBe(rotated.body.new_kid);
  });
});

describe('unusable keys', () => {
  it('adopts Trusted Server’s ts-2025-10-B as unusable, never restores or activates it (409 naming why), and removes it', async () => {
    const { services, send, items } = await setup({
      'ts-2025-10-B': TS_B_JWK,
      'active-kids': `${DEV_KEY.kid},ts-2025-10-B`,
    });
    const listed = await send<Keyring>(`${D}/keysets`);
    expect(listed.body.keysets.find((k) => k.id === 'ts-2025-10-B')).toMatchObject({
      state: 'DEACTIVATED',
      unusable: {
        code: 'key_material_invalid',
        reason: expect.stringContaining('not an Ed25519 public key'),
      },
    });
    const doctor = await send<{ findings: Array<{ code: string; kid?: string; fix: string }> }>(
      `${D}/doctor`,
    );
    expect(doctor.body.findings).toContainEqual(
      expect.objectContaining({
        code: 'unusable_key',
        kid: 'ts-2025-10-B',
        fix: expect.stringContaining('tsctl keyset remove ts-2025-10-B'),
      }),
    );
    for (const action of ['restore', 'activate']) {
      const res = await send<{ code: string }>(`${D}/keysets/ts-2025-10-B/${action}`, {
        method: 'POST',
      });
      expect([action, res.status, res.body.code]).toEqual([action, 409, 'key_material_invalid']);
    }
    const removed = await send<{ keyring: Keyring }>(`${D}/keysets/ts-2025-10-B`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(200);
    expect(removed.body.keyring.keysets.map((k) => k.id)).toEqual([DEV_KEY.kid]);
    expect(items.has('ts-2025-10-B')).toBe(false);
    expect(items.get('active-kids')).toBe(DEV_KEY.kid);
    const store = services.keyStores.get('default');
    if (!store) throw new Error('no store');
    expectConsistent(store);
  });

  it('refuses to activate a key whose private key is gone (key_material_missing)', async () => {
    const { send, secrets } = await setup();
    await send(`${D}/keysets`, { json: { kid: 'spare' } });
    secrets.delete('spare');
    const res = await send<{ code: string; detail: string }>(`${D}/keysets/spare/activate`, {
      method: 'POST',
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('key_material_missing');
  });

  it('refuses to activate a key whose private key does not derive its x (key_material_mismatch), writing nothing', async () => {
    const { send, secrets, items } = await setup();
    await send(`${D}/keysets`, { json: { kid: 'spare' } });
    secrets.set('spare', DEV_KEY.storedSeed);
    const before = [...items];
    const res = await send<{ code: string }>(`${D}/keysets/spare/activate`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('key_material_mismatch');
    expect([...items]).toEqual(before);
    expect(items.get('current-kid')).toBe(DEV_KEY.kid);
  });

  it('refuses a key the secret store lists but the edge cannot read yet (key_not_propagated, retry later)', async () => {
    const keyset = {
      id: 'fresh',
      state: 'PREPARED' as const,
      jwk: publicJwk('fresh', await publicKeyOf(new Uint8Array(32).fill(9))),
      issued_at: '2026-12-01T00:00:00.000Z',
      expires_at: '2027-03-01T00:00:00.000Z',
    };
    await expect(
      assertActivatable(keyset, 'activate', {
        secretNames: new Set(['fresh']),
        privateKeys: { get: async () => null },
      }),
    ).rejects.toMatchObject({ code: 'key_not_propagated', details: { retryAfterSeconds: 60 } });
  });
});
