// The keyset lifecycle through real HTTP on the local edge: SPIRL's runbook (list, prepare,
// activate, taint, remove) and concurrency. Rollback, If-Match, problem+json refusals, roles and
// the lease takeover run in-process in test/http/keysets.test.ts.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatedProxy } from '../support/gated-proxy.js';
import { startTestEdge, TEST_TARGET, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const BASE = '/admin/deployments/default/keysets';

let edge: TestEdge;
afterEach(async () => {
  await edge?.stop();
});

interface KeyringBody {
  version: number;
  deployment: string;
  keysets: Array<{
    id: string;
    state: string;
    issued_at: string;
    expires_at: string;
    activated_at?: string;
    tainted_at?: string;
  }>;
}
interface MutationBody {
  operation: string;
  keyset: { id: string; state: string } | null;
  keyring: KeyringBody;
}

async function send<T>(
  path: string,
  init: Parameters<TestEdge['call']>[1] = {},
): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await edge.call(path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}
const states = (k: KeyringBody): string[][] => k.keysets.map((s) => [s.id, s.state]);

describe('the SPIRL runbook on the local edge', () => {
  it('list → prepare → activate → taint → remove, with the states, versions and published keys', async () => {
    edge = await startTestEdge();
    const listed = await send<KeyringBody>(BASE, { method: 'GET' });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('x-keyring-adopted')).toBe('true');
    expect(listed.body.version).toBe(0);
    expect(states(listed.body)).toEqual([[DEV_KID, 'ACTIVE']]);

    const prepared = await send<MutationBody>(BASE, { json: {} });
    expect(prepared.status).toBe(201);
    const next = prepared.body.keyset?.id ?? '';
    expect(prepared.body.keyset).toMatchObject({ state: 'PREPARED' });
    expect(prepared.body.keyring.version).toBe(1);
    expect(prepared.headers.get('etag')).toBe('"1"');
    const issued = prepared.body.keyring.keysets[1];
    expect(Date.parse(issued?.expires_at ?? '') - Date.parse(issued?.issued_at ?? '')).toBe(
      90 * 86_400_000,
    );
    // PREPARED is published but does not sign.
    const doc = await (await edge.call('/.well-known/trusted-server.json', { auth: false })).json();
    expect(doc.jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([DEV_KID, next]);
    const signed = await send<{ kid: string }>('/admin/keys/sign', { json: { id: 'r' } });
    expect(signed.body.kid).toBe(DEV_KID);

    // The edge's clock cannot be moved from here: `force` skips the activation dwell, which
    // test/http/schedule.test.ts checks with a moved clock. The refusal comes first.
    const early = await send<{ code: string; allowed_at: string }>(`${BASE}/${next}/activate`, {
      method: 'POST',
    });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('activation_too_early');
    const activated = await send<MutationBody>(`${BASE}/${next}/activate`, {
      json: { force: true },
    });
    expect(activated.status).toBe(200);
    expect(states(activated.body.keyring)).toEqual([
      [DEV_KID, 'PREPARED'],
      [next, 'ACTIVE'],
    ]);
    expect((await send<{ kid: string }>('/admin/keys/sign', { json: { id: 'r' } })).body.kid).toBe(
      next,
    );

    const tainted = await send<MutationBody>(`${BASE}/${DEV_KID}/taint`, { method: 'POST' });
    expect(tainted.body.keyset).toMatchObject({ id: DEV_KID, state: 'TAINTED' });
    const discovery = await (
      await edge.call('/.well-known/trusted-server.json', { auth: false })
    ).json();
    expect(discovery).toMatchObject({ keyring_version: 3, tainted_kids: [DEV_KID] });
    expect(discovery.jwks.keys).toHaveLength(2);

    const removed = await send<MutationBody>(`${BASE}/${DEV_KID}`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(states(removed.body.keyring)).toEqual([[next, 'ACTIVE']]);
    expect(removed.body.keyring.version).toBe(4);
    const secrets = await edge.client.listSecrets(edge.stores.signingKeysStoreId);
    expect(secrets.map((s) => s.name)).toEqual([next]);
    // Trusted Server's items stay in line with the keyring.
    expect(await edge.client.getConfigItem(edge.stores.jwksStoreId, 'active-kids')).toBe(next);
    expect(await edge.client.getConfigItem(edge.stores.jwksStoreId, 'current-kid')).toBe(next);
  });
});

describe('concurrency', () => {
  // The gate is put between the app and the management API through its settings, which the
  // wasm has built in; the wasm's own lease is exercised by the parity suite's other routes.
  it.skipIf(TEST_TARGET === 'wasm')(
    'commits exactly one of many simultaneous mutations; the others get 409 at once',
    async () => {
      // The app reaches the management API through a gate that holds the winner's config write
      // (the only PATCH …/items, made while it holds the lease) until every other attempt has been
      // answered: the race is the same on every run, however slow the machine.
      const gate = await startGatedProxy();
      try {
        edge = await startTestEdge({
          configure: (s) => {
            gate.target = s.fastly_api.endpoint;
            return { ...s, fastly_api: { ...s.fastly_api, endpoint: gate.url } };
          },
        });
        gate.hold((method, path) => method === 'PATCH' && /\/items$/.test(path));
        const attempts = 24;
        let answered = 0;
        // Every attempt is either answered or waiting at the gate; then open it. Were two attempts
        // to commit at once, both would wait there and the assertions below would fail.
        const openWhenAllArrived = () => {
          if (answered + gate.heldCount === attempts) gate.release();
        };
        gate.onHeld = openWhenAllArrived;
        const results = await Promise.all(
          Array.from({ length: attempts }, (_, i) =>
            send<Record<string, unknown>>(BASE, { json: { kid: `racer-${i}` } }).finally(() => {
              answered += 1;
              openWhenAllArrived();
            }),
          ),
        );
        const committed = results.filter((r) => r.status === 201);
        const refused = results.filter((r) => r.status === 409);
        expect(gate.heldTotal).toBe(1); // the winner's commit really waited at the gate
        expect(committed).toHaveLength(1);
        expect(refused).toHaveLength(attempts - 1);
        for (const r of refused) {
          expect(r.body['code']).toBe('operation_in_progress');
          expect(r.body['detail']).toMatch(/prepare by local-admin since \d{4}-/);
        }
        const after = await send<KeyringBody>(BASE, { method: 'GET' });
        expect(after.body.version).toBe(1);
        expect(after.body.keysets).toHaveLength(2);
        const secrets = await edge.client.listSecrets(edge.stores.signingKeysStoreId);
        expect(secrets).toHaveLength(2); // no private key from a refused attempt
        expect(await edge.client.kvGet(edge.stores.locksStoreId, 'default')).toBeNull(); // lease released
      } finally {
        await gate.close();
      }
    },
  );

  // A second deployment is a settings change, and the wasm's settings are built in.
  it.skipIf(TEST_TARGET === 'wasm')(
    'never blocks one deployment with another: both commit in parallel',
    async () => {
      const settingsPath = join(
        await import('node:os').then((os) => os.tmpdir()),
        `tsk-settings-${process.pid}-${Date.now()}.toml`,
      );
      const base = await readFile('trusted-server.toml', 'utf8');
      await writeFile(
        settingsPath,
        `${base}\n[deployments.staging]\nconfig_store = "jwks_store_staging"\nconfig_store_id = "set-by-local-edge"\nsecret_store = "signing_keys_staging"\nsecret_store_id = "set-by-local-edge"\nkey_lifetime_days = 30\n`,
      );
      edge = await startTestEdge({ settingsPath });
      const [a, b] = await Promise.all([
        send<MutationBody>(BASE, { json: { kid: 'prod-next' } }),
        send<MutationBody>('/admin/deployments/staging/keysets', { json: { kid: 'staging-1' } }),
      ]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(b.body.keyring).toMatchObject({ deployment: 'staging', version: 1 });
      const staging = b.body.keyring.keysets[0];
      expect(Date.parse(staging?.expires_at ?? '') - Date.parse(staging?.issued_at ?? '')).toBe(
        30 * 86_400_000,
      );
      // The staging key lives in the staging stores, not in the default ones.
      const stagingSecrets = await edge.client.listSecrets(
        edge.stores.secretIds.get('signing_keys_staging') ?? '',
      );
      expect(stagingSecrets.map((s) => s.name)).toEqual(['staging-1']);
      const jwks = await (await edge.call('/.well-known/jwks.json', { auth: false })).json();
      expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([DEV_KID, 'prod-next']);
    },
  );
});
