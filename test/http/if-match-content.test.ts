// If-Match takes every ETag the key documents carry. On a store never changed here (or one
// Trusted Server's tools changed since), the documents' ETag is a content hash ("h…"), which a
// mutation then compares with the documents as they are now: 412 once they moved, never a 400
// for an ETag the service itself served.
import { describe, expect, it } from 'vitest';
import { STORE_NAMES } from '../../src/core/deployments.js';
import { addAdminToken, memoryServices, testApp, withDevKey } from '../support/app.js';

const KEYSETS = '/admin/deployments/default/keysets';

async function setup() {
  const services = memoryServices(withDevKey());
  const token = await addAdminToken(services, 'ops1', 'ops1-secret-0123456789abcdef', 'operator');
  const app = testApp(services);
  const etagOf = async (path: string) => {
    const res = await app.request(path);
    return res.headers.get('etag') ?? '';
  };
  const prepare = (ifMatch: string, kid: string) =>
    app.request(KEYSETS, { token, json: { kid }, headers: { 'if-match': ifMatch } });
  return { services, app, token, etagOf, prepare };
}

describe('If-Match with a content ETag', () => {
  it("accepts the JWKS's or the discovery document's ETag of a Trusted Server–only store", async () => {
    const { etagOf, prepare } = await setup();
    const jwksEtag = await etagOf('/.well-known/jwks.json');
    const discoveryEtag = await etagOf('/.well-known/trusted-server.json');
    expect(jwksEtag).toMatch(/^"h[0-9a-f]{20}"$/);
    expect(discoveryEtag).toMatch(/^"h[0-9a-f]{20}"$/);
    const res = await prepare(jwksEtag, 'via-jwks-etag');
    expect(res.status, await res.clone().text()).toBe(201);
    // Now the keyring exists: its documents carry the version, and that version works too.
    const versioned = await etagOf('/.well-known/jwks.json');
    expect(versioned).toBe('"1"');
    expect((await prepare(versioned, 'via-version')).status).toBe(201);
  });

  it('accepts the discovery ETag as well', async () => {
    const { etagOf, prepare } = await setup();
    const res = await prepare(await etagOf('/.well-known/trusted-server.json'), 'via-discovery');
    expect(res.status).toBe(201);
  });

  it("refuses with 412 once Trusted Server's tools changed the documents, writing nothing", async () => {
    const { services, etagOf, prepare } = await setup();
    const seen = await etagOf('/.well-known/jwks.json');
    const jwks = services.config.get(STORE_NAMES.jwks);
    if (!jwks) throw new Error('no jwks store');
    // Trusted Server's rotate, by hand: a new kid published behind our back.
    jwks.set(
      'ts-r1',
      '{"kty":"OKP","crv":"Ed25519","x":"TGYIGSo604sBmQh_5mjPex9RbT_V73upSoRKiXxYUSE","alg":"EdDSA","kid":"ts-r1"}',
    );
    jwks.set('active-kids', 'ts-2025-10-A,ts-r1');
    const before = JSON.stringify([...jwks].sort());
    const res = await prepare(seen, 'too-late');
    expect(res.status).toBe(412);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe('keyring_version_mismatch');
    expect(body.detail).toContain(`the key documents changed since ETag ${seen}`);
    expect(JSON.stringify([...jwks].sort())).toBe(before);
  });

  it('still refuses what is no ETag of ours with 400', async () => {
    const { prepare } = await setup();
    for (const bad of ['"hzz"', 'h0123456789abcdef0123', '"12", "13"']) {
      const res = await prepare(bad, 'never');
      expect(res.status, bad).toBe(400);
    }
  });
});
