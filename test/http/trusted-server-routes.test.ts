// Trusted Server's admin routes' refusals and variants, in-process (test/support/app.ts): the
// engine runs over in-memory management stores whose maps are the edge stores. The exact success
// shapes, against the local Fastly API over real HTTP, stay in test/e2e/trusted-server-routes.
import { describe, expect, it } from 'vitest';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { WARM_UP_SEED_HEX } from '../../src/http/warm-up.js';
import { DEV_KEY, operatorApp as operatorWorld } from '../support/app.js';

const DEV_KID = DEV_KEY.kid;

async function operatorApp() {
  const { services, send } = await operatorWorld();
  return { services, call: send };
}

describe('POST /admin/keys/rotate', () => {
  it('accepts an empty body, a chosen kid, and refuses a kid that exists or is malformed', async () => {
    const { call } = await operatorApp();
    expect((await call('/admin/keys/rotate', { method: 'POST' })).status).toBe(200);
    const chosen = await call('/admin/keys/rotate', { json: { kid: 'partner-test.1' } });
    expect(chosen.body).toMatchObject({ new_kid: 'partner-test.1' });
    const dup = await call('/admin/keys/rotate', { json: { kid: 'partner-test.1' } });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({
      success: false,
      message: 'Key rotation failed',
      code: 'kid_exists',
    });
    for (const kid of ['Upper', 'a,b', 'x'.repeat(129), 'keyring', 7]) {
      const bad = await call('/admin/keys/rotate', { json: { kid } });
      expect(bad.status, JSON.stringify(kid)).toBe(400);
      expect(bad.body['success']).toBe(false);
    }
    const wrongType = await call('/admin/keys/rotate', { json: { kid: 7 } });
    expect(wrongType.body['error']).toBe(
      'invalid request body at kid: expected {} or {"kid": "<new kid>"}',
    );
  });

  it('answers under the /_ts alias too', async () => {
    const { call } = await operatorApp();
    expect((await call('/_ts/admin/keys/rotate', { json: {} })).status).toBe(200);
  });
});

describe('POST /admin/keys/deactivate', () => {
  it('refuses the current key, an unknown kid and a bad body with honest statuses', async () => {
    const { call } = await operatorApp();
    const current = await call('/admin/keys/deactivate', { json: { kid: DEV_KID } });
    expect(current.status).toBe(409);
    expect(current.body).toMatchObject({
      success: false,
      message: 'Key deactivation failed',
      deactivated_kid: DEV_KID,
      error: 'cannot deactivate active key set',
    });
    const del = await call('/admin/keys/deactivate', { json: { kid: DEV_KID, delete: true } });
    expect(del.body).toMatchObject({
      message: 'Key deletion failed',
      error: 'cannot remove active key set',
    });
    expect((await call('/admin/keys/deactivate', { json: { kid: 'nope' } })).status).toBe(404);
    const missing = await call('/admin/keys/deactivate', { json: {} });
    expect(missing.status).toBe(400);
    expect(missing.body['error']).toBe(
      'invalid request body at kid: expected {"kid": "<kid>", "delete": false}',
    );
    const wrong = await call('/admin/keys/deactivate', { json: { kid: DEV_KID, delete: 'yes' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body['error']).toBe(
      'invalid request body at delete: expected {"kid": "<kid>", "delete": false}',
    );
    const absent = await call('/admin/keys/deactivate', { method: 'POST' });
    expect(absent.body['error']).toBe(
      'a JSON body is required: expected {"kid": "<kid>", "delete": false}',
    );
  });

  it('refuses to leave no published key', async () => {
    const { services, call } = await operatorApp();
    services.config.get(STORE_NAMES.jwks)?.delete('current-kid');
    const res = await call('/admin/keys/deactivate', { json: { kid: DEV_KID } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: 'Cannot deactivate the last active key',
      code: 'last_active_key',
    });
  });
});

describe('POST /admin/keys/sign', () => {
  it('signs with the ACTIVE key, and refuses a private key that does not match its JWK', async () => {
    const { services, call } = await operatorApp();
    const ok = await call('/admin/keys/sign', { json: { id: 'r1' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ kid: DEV_KID });
    // RFC 8032 TEST 1's seed under the dev kid: a real key, but not the one its JWK publishes.
    services.secrets
      .get(STORE_NAMES.signingKeys)
      ?.set(DEV_KID, Buffer.from(WARM_UP_SEED_HEX, 'hex').toString('base64'));
    const mismatch = await call('/admin/keys/sign', { json: { id: 'r2' } });
    expect(mismatch.status).toBe(500);
    expect(mismatch.body).toEqual({
      success: false,
      error: `the private key of "${DEV_KID}" does not match its published JWK`,
      code: 'keyring_corrupt',
    });
  });
});
