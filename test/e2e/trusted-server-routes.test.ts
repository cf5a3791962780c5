// Trusted Server's routes through real HTTP on the local edge, against the local Fastly API: the
// exact success shapes and what the stores hold after. Discovery, JWKS and verify's answers are
// tested in-process in test/http/public-routes.test.ts, the admin routes' refusals and variants
// in test/http/trusted-server-routes.test.ts.
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
