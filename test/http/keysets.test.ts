// The keyset routes' mutations in-process (test/support/app.ts): the engine runs over in-memory
// management stores whose maps are the edge stores, so each answer and the next edge read can be
// checked without a socket. The full stack (real HTTP, the local Fastly API, races) stays in
// test/e2e/keysets.test.ts.
import { describe, expect, it } from 'vitest';
import { STORE_NAMES } from '../../src/core/deployments.js';
import {
  addAdminToken,
  DEV_KEY,
  type MemoryServices,
  operatorApp as operatorWorld,
} from '../support/app.js';

const BASE = '/admin/deployments/default/keysets';
const DEV_KID = DEV_KEY.kid;

interface KeyringBody {
  version: number;
  keysets: Array<{ id: string; state: string }>;
}
interface MutationBody {
  operation: string;
  keyset: { id: string; state: string } | null;
  keyring: KeyringBody;
}

const operatorApp = (settings?: Record<string, unknown>) =>
  operatorWorld(settings ? { settings } : {});

const states = (k: KeyringBody): string[][] => k.keysets.map((s) => [s.id, s.state]);
const jwksItem = (services: MemoryServices, key: string) =>
  services.config.get(STORE_NAMES.jwks)?.get(key);

describe('keyset mutations in-process', () => {
  it('rolls back a rotation by activating the previous key again', async () => {
    const { services, send } = await operatorApp();
    const rotated = await send<{ new_kid: string }>('/admin/keys/rotate', { json: {} });
    expect(rotated.status).toBe(200);
    expect(jwksItem(services, 'current-kid')).toBe(rotated.body.new_kid);
    const back = await send<MutationBody>(`${BASE}/${DEV_KID}/activate`, { method: 'POST' });
    expect(states(back.body.keyring)).toEqual([
      [DEV_KID, 'ACTIVE'],
      [rotated.body.new_kid, 'PREPARED'],
    ]);
    expect(jwksItem(services, 'current-kid')).toBe(DEV_KID);
    // The edge read of the next request sees the commit.
    const signed = await send<{ kid: string }>('/admin/keys/sign', { json: { id: 'r' } });
    expect(signed.body.kid).toBe(DEV_KID);
  });

  it('deactivates and restores a key set', async () => {
    const { send } = await operatorApp();
    const prepared = await send<MutationBody>(BASE, { json: { kid: 'spare' } });
    expect(prepared.status).toBe(201);
    expect(prepared.body.keyset?.id).toBe('spare');
    expect(
      (await send<MutationBody>(`${BASE}/spare/deactivate`, { method: 'POST' })).body.keyset?.state,
    ).toBe('DEACTIVATED');
    expect(
      (await send<MutationBody>(`${BASE}/spare/restore`, { method: 'POST' })).body.keyset?.state,
    ).toBe('PREPARED');
  });

  it('takes over a claim left by a crashed operation only after the bound', async () => {
    const { services, send } = await operatorApp();
    const boundMs = services.settings.fastly_api.lease_ms;
    const claim = services.nextClaimKey();
    const lease = (startedAgoMs: number) =>
      JSON.stringify({
        lease: {
          operation: 'rotate',
          holder: 'crashed-operator',
          request_id: 'dead',
          started_at: new Date(services.now - startedAgoMs).toISOString(),
          expires_at: new Date(services.now - startedAgoMs + boundMs).toISOString(),
        },
        intent: null,
      });
    await services.leaseStore.add(claim, lease(10_000));
    const blocked = await send<Record<string, unknown>>(BASE, { json: {} });
    expect(blocked.status).toBe(409);
    expect(blocked.body['detail']).toMatch(/rotate by crashed-operator/);
    const entry = await services.leaseStore.get(claim);
    await services.leaseStore.replace(claim, lease(boundMs + 1000), entry?.generation ?? '0');
    expect((await send(BASE, { json: {} })).status).toBe(201);
    // The change took the claim over and committed it: the claim now names its request.
    expect(services.leaseStore.entries.get(claim)?.value).not.toContain('crashed-operator');
  });
});

describe('refusals as problem+json', () => {
  it('answers illegal transitions with 409, the exact message and the keyring', async () => {
    const { send } = await operatorApp();
    await send(BASE, { json: { kid: 'spare' } });
    await send(`${BASE}/spare/taint`, { method: 'POST' });
    const cases: Array<[string, string, string]> = [
      [`${BASE}/${DEV_KID}/taint`, 'POST', 'cannot taint active key set'],
      [`${BASE}/${DEV_KID}`, 'DELETE', 'cannot remove active key set'],
      [`${BASE}/spare/activate`, 'POST', 'cannot activate tainted key set'],
      [`${BASE}/${DEV_KID}/deactivate`, 'POST', 'cannot deactivate active key set'],
    ];
    for (const [path, method, detail] of cases) {
      const res = await send<Record<string, unknown>>(path, { method });
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
    const { send } = await operatorApp();
    expect(
      (await send<{ code: string }>(`${BASE}/nope/activate`, { method: 'POST' })).body.code,
    ).toBe('keyset_not_found');
    expect(
      (await send<{ code: string }>('/admin/deployments/nope/keysets', { method: 'GET' })).body
        .code,
    ).toBe('deployment_not_found');
    const unknown = await send<{ code: string; detail: string }>(`${BASE}/${DEV_KID}/explode`, {
      method: 'POST',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe(
      'unknown key set operation "explode"; use activate, taint, deactivate or restore',
    );
    expect(
      (await send<{ code: string }>(`${BASE}/bad,kid/activate`, { method: 'POST' })).body.code,
    ).toBe('invalid_kid');
  });

  it('refuses a stale If-Match with 412 and the current keyring', async () => {
    const { send } = await operatorApp();
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
    const { services, app } = await operatorApp();
    const viewer = await addAdminToken(services, 'viewer1', 'v'.repeat(32), 'viewer');
    expect((await app.request(BASE, { token: viewer })).status).toBe(200);
    expect((await app.request(BASE, { token: viewer, json: {} })).status).toBe(403);
    expect(
      (await app.request(`${BASE}/${DEV_KID}`, { method: 'DELETE', token: viewer })).status,
    ).toBe(403);
    expect((await app.request(BASE)).status).toBe(401);
  });

  it('refuses mutations with 503 not_configured when no lock store is configured', async () => {
    const { services, send } = await operatorApp({
      publisher: { domain: 'publisher.example' },
      request_signing: { config_store_id: 'cfg-default', secret_store_id: 'sec-default' },
    });
    const res = await send<{ code: string; detail: string }>(BASE, { json: {} });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      code: 'not_configured',
      detail:
        'request_signing.lock_store_id is not set: create the keyring_locks KV store, link it, and put its id in trusted-server.toml',
    });
    // Refused before the management side was opened.
    expect(services.keyStores.size).toBe(0);
  });
});
