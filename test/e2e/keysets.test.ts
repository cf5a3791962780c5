// The keyset lifecycle through real HTTP on the local edge: SPIRL's runbook (list, prepare,
// activate, taint, remove), rollback, If-Match, problem+json errors, roles, and concurrency.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OPERATION_BOUND_MS } from '../../src/core/keyring/lease.js';
import { installAdminToken } from '../../src/platform/node/provision.js';
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

    const activated = await send<MutationBody>(`${BASE}/${next}/activate`, { method: 'POST' });
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

  it('rolls back a rotation by activating the previous key again', async () => {
    edge = await startTestEdge();
    const rotated = await send<{ new_kid: string }>('/admin/keys/rotate', { json: {} });
    const back = await send<MutationBody>(`${BASE}/${DEV_KID}/activate`, { method: 'POST' });
    expect(states(back.body.keyring)).toEqual([
      [DEV_KID, 'ACTIVE'],
      [rotated.body.new_kid, 'PREPARED'],
    ]);
    expect(await edge.client.getConfigItem(edge.stores.jwksStoreId, 'current-kid')).toBe(DEV_KID);
  });

  it('deactivates and restores a key set', async () => {
    edge = await startTestEdge();
    const prepared = await send<MutationBody>(BASE, { json: { kid: 'spare' } });
    expect(prepared.body.keyset?.id).toBe('spare');
    expect(
      (await send<MutationBody>(`${BASE}/spare/deactivate`, { method: 'POST' })).body.keyset?.state,
    ).toBe('DEACTIVATED');
    expect(
      (await send<MutationBody>(`${BASE}/spare/restore`, { method: 'POST' })).body.keyset?.state,
    ).toBe('PREPARED');
  });
});

describe('refusals as problem+json', () => {
  it('answers illegal transitions with 409, the exact message and the keyring', async () => {
    edge = await startTestEdge();
    await send(BASE, { json: { kid: 'spare' } });
    await send(`${BASE}/spare/taint`, { method: 'POST' });
    const cases: Array<[string, RequestInit['method'], string]> = [
      [`${BASE}/${DEV_KID}/taint`, 'POST', 'cannot taint active key set'],
      [`${BASE}/${DEV_KID}`, 'DELETE', 'cannot remove active key set'],
      [`${BASE}/spare/activate`, 'POST', 'cannot activate tainted key set'],
      [`${BASE}/${DEV_KID}/deactivate`, 'POST', 'cannot deactivate active key set'],
    ];
    for (const [path, method, detail] of cases) {
      const res = await send<Record<string, unknown>>(path, { method: method ?? 'POST' });
      expect(res.status, path).toBe(409);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body).toMatchObject({
        status: 409,
        code: 'invalid_transition',
        detail,
        title: 'Invalid transition',
      });
      expect((res.body['keyring'] as KeyringBody).version).toBe(2);
    }
  });

  it('answers unknown key sets, deployments and operations with 404', async () => {
    edge = await startTestEdge();
    expect(
      (await send<{ code: string }>(`${BASE}/nope/activate`, { method: 'POST' })).body.code,
    ).toBe('keyset_not_found');
    expect(
      (await send<{ code: string }>('/admin/deployments/nope/keysets', { method: 'GET' })).body
        .code,
    ).toBe('deployment_not_found');
    expect(
      (await send<{ code: string }>(`${BASE}/${DEV_KID}/explode`, { method: 'POST' })).status,
    ).toBe(404);
    expect(
      (await send<{ code: string }>(`${BASE}/bad,kid/activate`, { method: 'POST' })).body.code,
    ).toBe('invalid_kid');
  });

  it('refuses a stale If-Match with 412 and the current keyring', async () => {
    edge = await startTestEdge();
    const first = await send<MutationBody>(BASE, { json: {}, headers: { 'if-match': '"0"' } });
    expect(first.status).toBe(201);
    const stale = await send<Record<string, unknown>>(BASE, {
      json: {},
      headers: { 'if-match': '"0"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'keyring_version_mismatch', keyring: { version: 1 } });
    expect((await send(BASE, { json: {}, headers: { 'if-match': 'garbage' } })).status).toBe(400);
  });

  it('lets a viewer list but not change', async () => {
    edge = await startTestEdge();
    const viewer = `viewer1.${'v'.repeat(32)}`;
    await installAdminToken(edge.client, edge.stores, {
      id: 'viewer1',
      secret: 'v'.repeat(32),
      role: 'viewer',
    });
    expect((await send(BASE, { method: 'GET', auth: viewer })).status).toBe(200);
    expect((await send(BASE, { json: {}, auth: viewer })).status).toBe(403);
    expect((await send(`${BASE}/${DEV_KID}`, { method: 'DELETE', auth: viewer })).status).toBe(403);
    expect((await send(BASE, { method: 'GET', auth: false })).status).toBe(401);
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

  it('takes over a lease left by a crashed operation only after the bound', async () => {
    edge = await startTestEdge();
    const lease = (startedAgoMs: number) =>
      JSON.stringify({
        operation: 'rotate',
        holder: 'crashed-operator',
        request_id: 'dead',
        started_at: new Date(Date.now() - startedAgoMs).toISOString(),
        expires_at: new Date(Date.now() - startedAgoMs + OPERATION_BOUND_MS).toISOString(),
      });
    await edge.client.kvPut(edge.stores.locksStoreId, 'default', lease(10_000), { add: true });
    const blocked = await send<Record<string, unknown>>(BASE, { json: {} });
    expect(blocked.status).toBe(409);
    expect(blocked.body['detail']).toMatch(/rotate by crashed-operator/);
    const entry = await edge.client.kvGet(edge.stores.locksStoreId, 'default');
    await edge.client.kvPut(edge.stores.locksStoreId, 'default', lease(OPERATION_BOUND_MS + 1000), {
      ifGenerationMatch: entry?.generation ?? '0',
    });
    expect((await send(BASE, { json: {} })).status).toBe(201);
    expect(await edge.client.kvGet(edge.stores.locksStoreId, 'default')).toBeNull();
  });
});
