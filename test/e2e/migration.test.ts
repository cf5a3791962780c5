// The migration (issue "Coexist with a running Trusted Server", Done when): starting from Trusted
// Server's own fastly.toml stores, Trusted Server's rotate, deactivate and delete (its exact
// management-API calls, test/support/trusted-server-tools.ts) alternate with this service's
// lifecycle over real HTTP. After every step: the key Trusted Server would sign with
// (`current-kid`) is in the JWKS the edge serves, with its private key (the edge signs with it and
// the signature verifies, with node:crypto, against the served JWK), and nothing was lost (every
// kid not deliberately deleted keeps its private key and JWK item, and is in the keyring).
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEdge, TEST_TARGET, type TestEdge } from '../support/local-edge.js';
import { TrustedServerTools } from '../support/trusted-server-tools.js';

const D = '/admin/deployments/default';

interface Keyring {
  version: number;
  keysets: Array<{ id: string; state: string; unusable?: { code: string } }>;
  drift?: Array<{ code: string; kid?: string }>;
}

let edge: TestEdge;
let ts: TrustedServerTools;
/** Kids that must still exist (private key, JWK item, keyring), with their JWK's x. */
const kept = new Map<string, string>();
/** What each step was and the drift the admin API reported after it. */
const played: Array<{ step: string; drift: string[] }> = [];

// The wasm edge's manifest is this project's fastly.toml (its fastly_api backend included).
describe.skipIf(TEST_TARGET === 'wasm')('migration from a running Trusted Server', () => {
  beforeAll(async () => {
    edge = await startTestEdge({ fastlyTomlPath: 'test/fixtures/trusted-server/fastly.toml' });
    ts = new TrustedServerTools({
      apiUrl: edge.apiUrl,
      token: edge.api.token,
      configStoreId: edge.stores.jwksStoreId,
      secretStoreId: edge.stores.signingKeysStoreId,
    });
  });
  afterAll(async () => {
    await edge?.stop();
  });

  async function admin<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
    const res = await edge.call(path, init);
    const body = (await res.json()) as T;
    expect(res.status, `${path}: ${JSON.stringify(body)}`).toBeLessThan(300);
    return body;
  }

  /** The checks after every step; records the step and the drift the admin API reports. */
  async function check(step: string): Promise<void> {
    const current = await ts.item('current-kid');
    expect(current, step).not.toBeNull();
    const kid = current ?? '';
    // The JWKS partners fetch holds the signing kid, with its item's public key.
    const jwks = (await (await edge.call('/.well-known/jwks.json', { auth: false })).json()) as {
      keys: Array<{ kid: string; x: string }>;
    };
    const served = jwks.keys.find((k) => k.kid === kid);
    const item = JSON.parse((await ts.item(kid)) ?? '{}') as { x?: string };
    expect(served?.x, `${step}: ${kid} in the JWKS`).toBe(item.x);
    // Trusted Server's own JWKS (the JWKs of active-kids) holds it too.
    expect((await ts.item('active-kids'))?.split(','), `${step}: ${kid} in active-kids`).toContain(
      kid,
    );
    // Its private key is there and derives that key: the edge signs with it, and the signature
    // verifies against the served JWK with an independent implementation.
    const signed = (await admin<{ payload: string; signature: string; kid: string }>(
      '/admin/keys/sign',
      { json: { id: `step-${played.length}` } },
    )) as { payload: string; signature: string; kid: string };
    expect(signed.kid, step).toBe(kid);
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: served?.x ?? '' },
      format: 'jwk',
    });
    expect(
      nodeVerify(
        null,
        Buffer.from(signed.payload),
        key,
        Buffer.from(signed.signature, 'base64url'),
      ),
      `${step}: signature by ${kid}`,
    ).toBe(true);
    // Nothing lost.
    const secrets = new Set(
      (await edge.client.listSecrets(edge.stores.signingKeysStoreId)).map((s) => s.name),
    );
    const keyring = await admin<Keyring>(`${D}/keysets`);
    for (const [k, x] of kept) {
      expect(secrets.has(k), `${step}: private key of ${k}`).toBe(true);
      expect(JSON.parse((await ts.item(k)) ?? '{}').x, `${step}: JWK of ${k}`).toBe(x);
      expect(
        keyring.keysets.map((s) => s.id),
        `${step}: ${k} in the keyring`,
      ).toContain(k);
    }
    played.push({
      step,
      drift: (keyring.drift ?? []).map((d) => `${d.code} ${d.kid ?? ''}`.trim()),
    });
  }

  it('plays Trusted Server and this service in turn; the signing key is always served with its private key', async () => {
    kept.set('ts-2025-10-A', 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw');
    await check('start: Trusted Server’s fastly.toml stores');

    const first = await admin<Keyring>(`${D}/keysets`);
    expect(first.keysets.map((k) => [k.id, k.state, k.unusable?.code])).toEqual([
      ['ts-2025-10-A', 'ACTIVE', undefined],
      ['ts-2025-10-B', 'DEACTIVATED', 'key_material_invalid'],
    ]);

    const p1 = await admin<{ keyset: { id: string; jwk: { x: string } } }>(`${D}/keysets`, {
      json: { kid: 'tsk-p1' },
    });
    kept.set('tsk-p1', p1.keyset.jwk.x);
    await check('tsk: prepare tsk-p1 (adopts the store)');

    kept.set('ts-r1', (await ts.rotate('ts-r1')).x);
    await check('ts: rotate ts-r1');

    // Forced: prepared a moment ago, tsk-p1 is inside the activation dwell (the edge's clock is
    // real here); what is played is the fold, not the wait.
    await admin(`${D}/keysets/tsk-p1/activate`, { json: { force: true } });
    await check('tsk: activate tsk-p1');

    await ts.deactivate('ts-2025-10-A');
    await check('ts: deactivate ts-2025-10-A');

    const r2 = await admin<{ new_kid: string; jwk: { x: string } }>('/admin/keys/rotate', {
      json: { kid: 'tsk-r2' },
    });
    kept.set(r2.new_kid, r2.jwk.x);
    await check('tsk: /admin/keys/rotate tsk-r2');

    kept.set('ts-r2', (await ts.rotate('ts-r2')).x);
    await check('ts: rotate ts-r2');

    await ts.delete('tsk-p1');
    kept.delete('tsk-p1');
    await check('ts: delete tsk-p1');

    await admin(`${D}/keysets/tsk-r2/taint`, { method: 'POST' });
    await check('tsk: taint tsk-r2');

    kept.set('ts-r3', (await ts.rotate('ts-r3')).x);
    await ts.deactivate('ts-r2');
    await check('ts: rotate ts-r3, deactivate ts-r2');

    await admin(`${D}/adopt`, { json: {} });
    await check('tsk: keyset adopt');

    await admin(`${D}/keysets/ts-2025-10-B`, { method: 'DELETE' });
    await check('tsk: remove ts-2025-10-B (unusable)');

    await ts.setCurrentKid('ts-r1');
    await check('ts: current-kid set to ts-r1 by hand');

    await admin('/admin/keys/deactivate', { json: { kid: 'tsk-r2' } });
    await check('tsk: /admin/keys/deactivate tsk-r2');

    // The steps played and the drift each left for this service to fold (the closing note).
    expect(played).toEqual([
      { step: 'start: Trusted Server’s fastly.toml stores', drift: [] },
      { step: 'tsk: prepare tsk-p1 (adopts the store)', drift: [] },
      { step: 'ts: rotate ts-r1', drift: ['kid_added ts-r1'] },
      { step: 'tsk: activate tsk-p1', drift: [] },
      { step: 'ts: deactivate ts-2025-10-A', drift: ['kid_removed ts-2025-10-A'] },
      { step: 'tsk: /admin/keys/rotate tsk-r2', drift: [] },
      { step: 'ts: rotate ts-r2', drift: ['kid_added ts-r2'] },
      { step: 'ts: delete tsk-p1', drift: ['kid_deleted tsk-p1', 'kid_added ts-r2'] },
      { step: 'tsk: taint tsk-r2', drift: [] },
      {
        step: 'ts: rotate ts-r3, deactivate ts-r2',
        drift: ['kid_removed ts-r2', 'kid_added ts-r3'],
      },
      { step: 'tsk: keyset adopt', drift: [] },
      { step: 'tsk: remove ts-2025-10-B (unusable)', drift: [] },
      { step: 'ts: current-kid set to ts-r1 by hand', drift: ['current_changed ts-r1'] },
      { step: 'tsk: /admin/keys/deactivate tsk-r2', drift: [] },
    ]);
    // Trusted Server's calls were replayed as it makes them.
    expect(ts.calls.filter((c) => c.method === 'POST').every((c) => c.status === 200)).toBe(true);
    expect(ts.calls.map((c) => c.method)).toContain('DELETE');
  });
});
