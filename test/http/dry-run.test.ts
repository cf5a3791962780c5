// `?dry_run=true` and `?wait=propagation` in-process (test/support/app.ts): every mutation route's
// dry run refuses exactly what the real call refuses, leaves every store (config, secrets, the
// lock store) as it was, and answers what the real call then commits. The full stack, with the
// local Fastly API's state file compared byte for byte, is test/e2e/dry-run.test.ts.
import { describe, expect, it } from 'vitest';
import { serializeLockRecord } from '../../src/core/keyring/journal.js';
import {
  DEV_KEY,
  testApp,
  type AppRequestInit,
  type MemoryServices,
  operatorApp as operatorWorld,
} from '../support/app.js';

const BASE = '/admin/deployments/default/keysets';
const DEV_KID = DEV_KEY.kid;

interface Keyring {
  version: number;
  keysets: Array<{ id: string; state: string; jwk: { x: string } }>;
}
type Body = Record<string, unknown> & { keyring: Keyring; code?: string };

async function operatorApp() {
  const { services, send } = await operatorWorld();
  return { services, send: (path: string, init?: AppRequestInit) => send<Body>(path, init) };
}

/** Every store the app can write, as one string. */
function dump(services: MemoryServices): string {
  const maps = (m: Map<string, Map<string, string>>) =>
    [...m].map(([name, items]) => [name, [...items].sort()]).sort();
  return JSON.stringify({
    config: maps(services.config),
    secrets: maps(services.secrets),
    locks: [...services.leaseStore.entries].sort(),
  });
}

/** A keyring without what a real call generates anew (the new key's public key). */
const shape = (k: Keyring) =>
  JSON.stringify({ ...k, keysets: k.keysets.map((s) => ({ ...s, jwk: { ...s.jwk, x: '-' } })) });

/** One mutation, as a dry run and for real. */
interface Case {
  name: string;
  path: string;
  init: AppRequestInit;
  /** Changes made first, so the mutation is allowed. */
  setup?: (send: Awaited<ReturnType<typeof operatorApp>>['send']) => Promise<void>;
}

const dry = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}dry_run=true`;

const CASES: Case[] = [
  { name: 'prepare', path: BASE, init: { json: { kid: 'next' } } },
  { name: "Trusted Server's rotate", path: '/admin/keys/rotate', init: { json: {} } },
  {
    name: 'activate',
    path: `${BASE}/next/activate`,
    // Forced: a key prepared a moment ago is inside the activation dwell.
    init: { json: { force: true } },
    setup: async (send) => void (await send(BASE, { json: { kid: 'next' } })),
  },
  {
    name: 'taint',
    path: `${BASE}/next/taint`,
    init: { method: 'POST' },
    setup: async (send) => void (await send(BASE, { json: { kid: 'next' } })),
  },
  {
    name: 'deactivate',
    path: `${BASE}/next/deactivate`,
    init: { method: 'POST' },
    setup: async (send) => void (await send(BASE, { json: { kid: 'next' } })),
  },
  {
    name: 'restore',
    path: `${BASE}/next/restore`,
    init: { method: 'POST' },
    setup: async (send) => {
      await send(BASE, { json: { kid: 'next' } });
      await send(`${BASE}/next/deactivate`, { method: 'POST' });
    },
  },
  {
    name: 'remove',
    path: `${BASE}/next`,
    init: { method: 'DELETE' },
    setup: async (send) => void (await send(BASE, { json: { kid: 'next' } })),
  },
  {
    name: "Trusted Server's deactivate with delete",
    path: '/admin/keys/deactivate',
    init: { json: { kid: 'next', delete: true } },
    setup: async (send) => void (await send(BASE, { json: { kid: 'next' } })),
  },
];

describe('dry runs of every mutation route', () => {
  for (const c of CASES) {
    it(`${c.name}: writes nothing and answers what the real call then commits`, async () => {
      const { services, send } = await operatorApp();
      await c.setup?.(send);
      const before = dump(services);
      const preview = await send(dry(c.path), c.init);
      expect(preview.status).toBe(200);
      expect(preview.body['dry_run']).toBe(true);
      expect(dump(services)).toBe(before);
      const audit = services.audits.at(-1);
      expect(audit).toMatchObject({ dry_run: true, outcome: 'allowed' });
      expect(audit?.keyring_version_after).toBe(audit?.keyring_version_before);

      const real = await send(c.path, c.init);
      expect(real.status).toBeLessThan(300);
      expect(dump(services)).not.toBe(before);
      // The real answer's keyring (Trusted Server's routes answer none: read it).
      // (The listing adds `unendorsed_kids`, the key log's report, to the keyring.)
      const listed = async (): Promise<Keyring> => {
        const { unendorsed_kids: _unendorsed, ...keyring } = (await send(BASE, { method: 'GET' }))
          .body;
        return keyring as unknown as Keyring;
      };
      const committed = (real.body.keyring as Keyring | undefined) ?? (await listed());
      expect(shape(preview.body.keyring)).toBe(shape(committed));
      // The JWKS as it would be is the JWKS the edge now serves (kids, in order).
      const jwks = (await (await testApp(services).request('/.well-known/jwks.json')).json()) as {
        keys: Array<{ kid: string }>;
      };
      const previewJwks = preview.body['jwks'] as { keys: Array<{ kid: string }> };
      expect(previewJwks.keys.map((k) => k.kid)).toEqual(jwks.keys.map((k) => k.kid));
    });
  }

  it('refuses exactly what the real call refuses, with the same status and code', async () => {
    const { services, send } = await operatorApp();
    await send(BASE, { json: { kid: 'next' } });
    const refusals: Array<[string, AppRequestInit]> = [
      [`${BASE}/nope/activate`, { method: 'POST' }], // 404 keyset_not_found
      [`${BASE}/${DEV_KID}/taint`, { method: 'POST' }], // 409 invalid_transition
      [BASE, { json: { kid: 'next' } }], // 409 kid_exists
      [`${BASE}/next/activate`, { method: 'POST', headers: { 'if-match': '"0"' } }], // 412
      ['/admin/deployments/nope/keysets', { json: {} }], // 404 deployment_not_found
      ['/admin/keys/deactivate', { json: { kid: DEV_KID, delete: false } }], // 409 active
    ];
    for (const [path, init] of refusals) {
      const before = dump(services);
      const preview = await send(dry(path), init);
      expect(dump(services)).toBe(before);
      const real = await send(path, init);
      expect([preview.status, preview.body.code]).toEqual([real.status, real.body.code]);
      expect(preview.status).toBeGreaterThanOrEqual(400);
    }
    const statuses = [];
    for (const [path, init] of refusals) statuses.push((await send(dry(path), init)).status);
    expect(statuses).toEqual([404, 409, 409, 412, 404, 409]);
  });

  it('is refused while another change holds the lease, as the real call is', async () => {
    const { services, send } = await operatorApp();
    const now = services.now;
    services.leaseStore.entries.set(services.nextClaimKey(), {
      value: serializeLockRecord({
        lease: {
          operation: 'rotate',
          holder: 'ops2',
          request_id: 'r-other',
          started_at: new Date(now - 1000).toISOString(),
          expires_at: new Date(now + 60_000).toISOString(),
        },
        intent: null,
      }),
      generation: '1',
    });
    const before = dump(services);
    const preview = await send(dry(BASE), { json: {} });
    expect([preview.status, preview.body.code]).toEqual([409, 'operation_in_progress']);
    expect(String(preview.body['detail'])).toContain('rotate by ops2');
    expect(dump(services)).toBe(before);
    // Once the lease has lapsed the same dry run is answered, and still writes nothing.
    services.now = now + 61_000;
    const later = await send(dry(BASE), { json: {} });
    expect(later.status).toBe(200);
    expect(dump(services)).toBe(before);
  });

  it('with an earlier change unsettled: 409 until it may settle, then names it and still writes nothing', async () => {
    const { services, send } = await operatorApp();
    const now = services.now;
    const intent = {
      operation: 'prepare',
      request_id: 'r-lost',
      holder: 'ops2',
      recorded_at: new Date(now - 5000).toISOString(),
      before_version: 0,
      keyring: '{}',
      restore: {},
    };
    const record = (settlesAt: number) => ({
      value: serializeLockRecord({
        lease: null,
        intent,
        settles_at: new Date(settlesAt).toISOString(),
      }),
      generation: '1',
    });
    services.leaseStore.entries.set(services.nextClaimKey(), record(now + 30_000));
    const before = dump(services);
    const early = await send(dry(BASE), { json: {} });
    expect([early.status, early.body.code]).toEqual([409, 'operation_in_progress']);
    expect(String(early.body['detail'])).toContain('earlier prepare (request r-lost)');
    // Settleable now: the real call would settle it first, and the preview says so.
    services.leaseStore.entries.set(services.nextClaimKey(), record(now - 1));
    const settleable = dump(services);
    const preview = await send(dry(BASE), { json: {} });
    expect(preview.status).toBe(200);
    expect((preview.body['planned_writes'] as string[])[0]).toBe(
      'settle the earlier prepare (request r-lost) first (its outcome is not settled yet)',
    );
    expect(dump(services)).toBe(settleable);
    expect(settleable).not.toBe(before);
  });

  it('answers the difference, the planned writes and the warnings', async () => {
    const { services, send } = await operatorApp();
    const rotated = await send('/admin/keys/rotate', { json: {} });
    const newKid = String(rotated.body['new_kid']);
    // The development key stopped signing just now: removing it would strand its signatures.
    const preview = await send(dry(`${BASE}/${DEV_KID}`), { method: 'DELETE' });
    expect(preview.body['diff']).toEqual({
      keysets: { added: [], removed: [DEV_KID], changed: [] },
      jwks: { added: [], removed: [DEV_KID] },
      current_kid: { before: newKid, after: newKid, changed: false },
    });
    expect(preview.body['planned_writes']).toEqual([
      `one bulk config update: set active-kids, set keyring, set jwks-document, set discovery-document, delete ${DEV_KID}`,
      `delete private key ${DEV_KID}`,
    ]);
    const codes = (preview.body['warnings'] as Array<{ code: string; kid: string }>).map((w) => [
      w.code,
      w.kid,
    ]);
    expect(codes).toEqual([
      ['recent_signatures', DEV_KID],
      ['single_published_key', newKid],
    ]);
    // ETag is the version a real call must match, not one that does not exist.
    expect(preview.headers.get('etag')).toBe('"1"');
    // 31 days on, the signatures it made can no longer be presented: only the single key is left.
    services.now += 31 * 86_400_000;
    const later = await send(dry(`${BASE}/${DEV_KID}`), { method: 'DELETE' });
    expect((later.body['warnings'] as Array<{ code: string }>).map((w) => w.code)).toEqual([
      'single_published_key',
    ]);
  });

  it("answers Trusted Server's rotate shape with the preview beside it", async () => {
    const { send } = await operatorApp();
    const preview = await send(dry('/admin/keys/rotate'), { json: { kid: 'ts-next' } });
    expect(preview.body).toMatchObject({
      success: true,
      dry_run: true,
      new_kid: 'ts-next',
      previous_kid: DEV_KID,
      active_kids: [DEV_KID, 'ts-next'],
      diff: { current_kid: { before: DEV_KID, after: 'ts-next', changed: true } },
    });
    expect(String(preview.body['message'])).toMatch(/^Dry run: nothing was changed/);
    expect(preview.body['notes']).toEqual([expect.stringContaining('ts-next')]);
  });

  it('previews doctor --repair without writing', async () => {
    const { services, send } = await operatorApp();
    const before = dump(services);
    const res = await send('/admin/deployments/default/doctor?dry_run=true', { json: {} });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dry_run: true, would_repair: [] });
    expect(dump(services)).toBe(before);
  });
});

describe('query options of mutations', () => {
  it('refuses values it does not know, with 400 invalid_request, before any write', async () => {
    const { services, send } = await operatorApp();
    const before = dump(services);
    for (const query of [
      'dry_run=yes',
      'dry_run=true&dry_run=false',
      'wait=forever',
      'wait_timeout_ms=5',
      'wait=propagation&wait_timeout_ms=abc',
      'wait=propagation&wait_timeout_ms=120001',
      'dry_run=true&wait=propagation',
    ]) {
      const res = await send(`${BASE}?${query}`, { json: {} });
      expect([query, res.status, res.body.code]).toEqual([query, 400, 'invalid_request']);
    }
    const repair = await send('/admin/deployments/default/doctor?wait=propagation', { json: {} });
    expect(repair.status).toBe(400);
    expect(dump(services)).toBe(before);
  });

  it('waits for the edge to serve the committed version (here at once)', async () => {
    const { send } = await operatorApp();
    const res = await send(`${BASE}?wait=propagation&wait_timeout_ms=1000`, { json: {} });
    expect(res.status).toBe(201);
    expect(res.body['propagation']).toMatchObject({
      propagated: true,
      keyring_version: 1,
      edge_keyring_version: 1,
      timeout_ms: 1000,
    });
    const rotated = await send('/admin/keys/rotate?wait=propagation', { json: {} });
    expect(rotated.body['propagation']).toMatchObject({ propagated: true, keyring_version: 2 });
    expect(rotated.body['success']).toBe(true);
  });
});

describe('dry runs and the activation dwell', () => {
  const codes = (body: Body) =>
    (body['warnings'] as Array<{ code: string; kid: string }>).map((w) => [w.code, w.kid]);

  it("warns that Trusted Server's rotate signs with a key no partner can have cached yet", async () => {
    const { send } = await operatorApp();
    const preview = await send(dry('/admin/keys/rotate'), { json: {} });
    expect(preview.status).toBe(200);
    const kid = String(preview.body['new_kid']);
    expect(codes(preview.body)).toContainEqual(['activation_too_early', kid]);
  });

  it('refuses an early activation as the real call does, and warns about a forced one', async () => {
    const { services, send } = await operatorApp();
    const prepared = await send(BASE, { json: {} });
    const kid = String((prepared.body['keyset'] as { id: string }).id);
    const early = await send(dry(`${BASE}/${kid}/activate`), { json: {} });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('activation_too_early');
    const forced = await send(dry(`${BASE}/${kid}/activate`), { json: { force: true } });
    expect(forced.status).toBe(200);
    expect(codes(forced.body)).toContainEqual(['activation_too_early', kid]);
    // Once the dwell has passed, neither refusal nor warning.
    services.now += 24 * 3_600_000;
    const later = await send(dry(`${BASE}/${kid}/activate`), { json: {} });
    expect(later.status).toBe(200);
    expect(codes(later.body).map(([code]) => code)).not.toContain('activation_too_early');
  });
});
