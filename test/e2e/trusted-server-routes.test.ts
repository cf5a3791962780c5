// Trusted Server's routes through real HTTP on the local edge, against the local Fastly API.
// What needs no management API (discovery, JWKS, verify's answers) is tested in-process in
// test/http/public-routes.test.ts.
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const DEV_JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw',
  alg: 'EdDSA',
  kid: DEV_KID,
};

let edge: TestEdge;
beforeEach(async () => {
  edge = await startTestEdge();
});
afterEach(async () => {
  await edge.stop();
});

async function body(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('POST /admin/keys/rotate', () => {
  it('rotates with exactly Trusted Server’s response, and the next JWKS request shows the key', async () => {
    const before = (await edge.call('/.well-known/jwks.json', { auth: false })).headers.get('etag');
    const res = await edge.call('/admin/keys/rotate', { json: {} });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const out = await body(res);
    expect(Object.keys(out)).toEqual([
      'success',
      'message',
      'new_kid',
      'previous_kid',
      'active_kids',
      'jwk',
    ]);
    expect(out).toMatchObject({
      success: true,
      message: 'Key rotated successfully',
      previous_kid: DEV_KID,
    });
    expect(out['new_kid']).toMatch(/^ts-\d{4}-\d{2}-\d{2}$/);
    expect(out['active_kids']).toEqual([DEV_KID, out['new_kid']]);
    const jwks = await (await edge.call('/.well-known/jwks.json', { auth: false })).json();
    expect(jwks).toEqual({ keys: [DEV_JWK, out['jwk']] });
    const after = await edge.call('/.well-known/trusted-server.json', { auth: false });
    expect(after.headers.get('etag')).not.toBe(before);
    expect((await body(after))['keyring_version']).toBe(1);
  });

  it('accepts an empty body, a chosen kid, and refuses a kid that exists or is malformed', async () => {
    expect((await edge.call('/admin/keys/rotate', { method: 'POST' })).status).toBe(200);
    const chosen = await edge.call('/admin/keys/rotate', { json: { kid: 'partner-test.1' } });
    expect(await body(chosen)).toMatchObject({ new_kid: 'partner-test.1' });
    const dup = await edge.call('/admin/keys/rotate', { json: { kid: 'partner-test.1' } });
    expect(dup.status).toBe(409);
    expect(await body(dup)).toMatchObject({
      success: false,
      message: 'Key rotation failed',
      code: 'kid_exists',
    });
    for (const kid of ['Upper', 'a,b', 'x'.repeat(129), 'keyring', 7]) {
      const bad = await edge.call('/admin/keys/rotate', { json: { kid } });
      expect(bad.status, JSON.stringify(kid)).toBe(400);
      expect((await body(bad))['success']).toBe(false);
    }
  });

  it('answers under the /_ts alias too', async () => {
    expect((await edge.call('/_ts/admin/keys/rotate', { json: {} })).status).toBe(200);
  });
});

describe('POST /admin/keys/deactivate', () => {
  it('deactivates, then deletes, with Trusted Server’s shapes; the key leaves the JWKS', async () => {
    const rotated = await body(await edge.call('/admin/keys/rotate', { json: {} }));
    const res = await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID } });
    expect(await body(res)).toEqual({
      success: true,
      message: 'Key deactivated successfully',
      deactivated_kid: DEV_KID,
      deleted: false,
      remaining_active_kids: [rotated['new_kid']],
    });
    const jwks = (await (await edge.call('/.well-known/jwks.json', { auth: false })).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual([rotated['new_kid']]);
    const del = await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID, delete: true } });
    expect(await body(del)).toMatchObject({
      success: true,
      message: 'Key deleted successfully',
      deleted: true,
    });
    const secrets = await edge.client.listSecrets(edge.stores.signingKeysStoreId);
    expect(secrets.map((s) => s.name)).toEqual([rotated['new_kid']]);
    expect(await edge.client.getConfigItem(edge.stores.jwksStoreId, DEV_KID)).toBeNull();
  });

  it('refuses the current key, an unknown kid and a bad body with honest statuses', async () => {
    const current = await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID } });
    expect(current.status).toBe(409);
    expect(await body(current)).toMatchObject({
      success: false,
      message: 'Key deactivation failed',
      deactivated_kid: DEV_KID,
      error: 'cannot deactivate active key set',
    });
    const del = await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID, delete: true } });
    expect(await body(del)).toMatchObject({
      message: 'Key deletion failed',
      error: 'cannot remove active key set',
    });
    expect((await edge.call('/admin/keys/deactivate', { json: { kid: 'nope' } })).status).toBe(404);
    expect((await edge.call('/admin/keys/deactivate', { json: {} })).status).toBe(400);
    expect(
      (await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID, delete: 'yes' } })).status,
    ).toBe(400);
  });

  it('refuses to leave no published key', async () => {
    await edge.client.deleteConfigItem(edge.stores.jwksStoreId, 'current-kid');
    const res = await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID } });
    expect(res.status).toBe(409);
    expect(await body(res)).toMatchObject({
      error: 'Cannot deactivate the last active key',
      code: 'last_active_key',
    });
  });
});

describe('sign and verify', () => {
  it('signs a v1.1 payload that the edge and an independent verifier (Node crypto + the JWKS) accept', async () => {
    await edge.call('/admin/keys/rotate', { json: {} });
    const signed = await body(await edge.call('/admin/keys/sign', { json: { id: 'req-42' } }));
    const payload = JSON.parse(String(signed['payload'])) as Record<string, unknown>;
    expect(Object.keys(payload)).toEqual(['version', 'kid', 'host', 'scheme', 'id', 'ts']);
    expect(payload).toMatchObject({
      version: '1.1',
      kid: signed['kid'],
      host: 'publisher.example',
      scheme: 'https',
      id: 'req-42',
    });
    expect(signed['signature']).toMatch(/^[A-Za-z0-9_-]{86}$/);

    const verified = await edge.call('/verify-signature', {
      auth: false,
      json: { payload: signed['payload'], signature: signed['signature'], kid: signed['kid'] },
    });
    expect(await body(verified)).toEqual({
      verified: true,
      kid: signed['kid'],
      message: 'Signature verified successfully',
      state: 'ACTIVE',
    });

    const jwks = (await (await edge.call('/.well-known/jwks.json', { auth: false })).json()) as {
      keys: Array<{ kid: string }>;
    };
    const jwk = jwks.keys.find((k) => k.kid === signed['kid']);
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    expect(
      nodeVerify(
        null,
        Buffer.from(String(signed['payload'])),
        key,
        Buffer.from(String(signed['signature']), 'base64url'),
      ),
    ).toBe(true);
  });

  it('refuses signatures by a deactivated key', async () => {
    const signed = await body(await edge.call('/admin/keys/sign', { json: { id: 'r' } }));
    await edge.call('/admin/keys/rotate', { json: {} });
    await edge.call('/admin/keys/deactivate', { json: { kid: DEV_KID } });
    const res = await edge.call('/verify-signature', {
      auth: false,
      json: { payload: signed['payload'], signature: signed['signature'], kid: DEV_KID },
    });
    expect(await body(res)).toMatchObject({
      verified: false,
      error: 'Key is deactivated',
      state: 'DEACTIVATED',
    });
  });
});
