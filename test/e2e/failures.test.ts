// Bad input, bad credentials and a failing or slow Fastly API, through real HTTP on the local
// edge: each gets its status and message, and the stores are left as they were.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installAdminToken } from '../../src/platform/node/provision.js';
import { nextClaimKey, startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

/** The late-write bound the tests run with: short, so an unknown outcome settles in a test. */
const LATE_MS = 3000;

let edge: TestEdge;
let seen: string[];
beforeEach(async () => {
  edge = await startTestEdge({
    configure: (s) => ({
      ...s,
      fastly_api: { ...s.fastly_api, timeout_ms: 400, lease_ms: 5000, late_write_ms: LATE_MS },
    }),
  });
  seen = [];
});
afterEach(async () => {
  // No response and no log line may ever carry a secret.
  const secrets = [edge.adminToken.split('.')[1] ?? 'x', edge.api.token, DEV_SEED];
  for (const text of [...seen, ...edge.logs])
    for (const secret of secrets) expect(text).not.toContain(secret);
  await edge.stop();
});

async function call(
  path: string,
  init?: Parameters<TestEdge['call']>[1],
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await edge.call(path, init);
  const text = await res.text();
  seen.push(text, JSON.stringify([...res.headers]));
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Waits out the late-write bound (a real bound in real time, not a race). */
async function waitOutLateWrites(): Promise<void> {
  await new Promise((r) => setTimeout(r, LATE_MS + 100));
}

/** Polls `read` until `ok` holds (at most 5 s). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Config items and secret names of the signing stores, for "nothing changed" checks. */
async function storeState(): Promise<string> {
  const items = await edge.client.listConfigItems(edge.stores.jwksStoreId);
  const secrets = await edge.client.listSecrets(edge.stores.signingKeysStoreId);
  return JSON.stringify({
    items: items.map((i) => [i.key, i.value]).sort(),
    secrets: secrets.map((s) => s.name).sort(),
  });
}

describe('admin authentication', () => {
  it('asks for credentials with 401 and WWW-Authenticate when none or malformed ones are sent', async () => {
    for (const auth of [
      false,
      'no-dot-here',
      'a.short',
      `${edge.adminToken}x`,
      'local-admin.' + 'A'.repeat(43),
    ] as const) {
      const res = await call('/admin/keys/rotate', { auth, json: {} });
      expect(res.status, String(auth)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*Basic/);
      expect(res.json).toMatchObject({ success: false, code: 'unauthorized' });
    }
  });

  it('accepts Basic with the same id and secret', async () => {
    const [id, secret] = edge.adminToken.split('.');
    const basic = Buffer.from(`${id}:${secret}`).toString('base64');
    const res = await edge.call('/admin/keys/rotate', {
      auth: false,
      headers: { authorization: `Basic ${basic}` },
      json: {},
    });
    expect(res.status).toBe(200);
  });

  it('gives a viewer token 403 on operator routes', async () => {
    await installAdminToken(edge.client, edge.stores, {
      id: 'viewer1',
      secret: 'v'.repeat(32),
      role: 'viewer',
    });
    const res = await call('/admin/keys/rotate', { auth: `viewer1.${'v'.repeat(32)}`, json: {} });
    expect(res.status).toBe(403);
    expect(res.json['code']).toBe('forbidden');
  });
});

describe('request shape', () => {
  it('refuses bodies over 4096 bytes with 413, declared or streamed', async () => {
    const big = JSON.stringify({ kid: 'a'.repeat(5000) });
    expect(
      (
        await call('/admin/keys/rotate', {
          method: 'POST',
          body: big,
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1000).fill(32));
        c.close();
      },
    });
    const res = await edge.call('/verify-signature', {
      auth: false,
      method: 'POST',
      body: stream,
      duplex: 'half',
      headers: { 'content-type': 'application/json' },
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('refuses invalid JSON with 400, form fields with 400 and a multipart body with 415', async () => {
    const bad = await call('/admin/keys/rotate', {
      method: 'POST',
      body: '{"kid":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json['error']).toBe('invalid JSON request body');
    const form = await call('/admin/keys/rotate', {
      method: 'POST',
      body: 'kid=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(400);
    const multipart = await call('/admin/keys/rotate', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
    });
    expect(multipart.status).toBe(415);
  });

  it('answers wrong methods with 405 and Allow, unknown paths with 404, odd spellings with 400', async () => {
    const wrong = await call('/admin/keys/rotate', { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    for (const path of ['/ADMIN/keys/rotate', '/admin/keys', '/nope']) {
      expect((await call(path, { json: {} })).status, path).toBe(404);
    }
    for (const path of [
      '/admin/keys/rotate/',
      '/admin%2fkeys%2frotate',
      '/admin%2Fkeys%2Frotate',
    ]) {
      const res = await call(path, { json: {} });
      expect(res.status, path).toBe(400);
      expect(res.json, path).toMatchObject({ code: 'non_canonical_path' });
    }
  });
});

describe('a failing or slow Fastly API', () => {
  it('answers 503 outcome unknown when the bulk config update fails with a 5xx, keeps the new key until the bound, then settles it', async () => {
    const before = await storeState();
    // Every attempt fails (the client retries an idempotent bulk update).
    const disarm = edge.api.state.injectFault({
      method: 'PATCH',
      path: /\/items$/,
      status: 503,
      times: Infinity,
    });
    const res = await call('/admin/keys/rotate', { json: {} });
    disarm();
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ success: false, code: 'outcome_unknown', outcome: 'unknown' });
    expect(String(res.json['error'])).toMatch(/outcome of this rotate is unknown/);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    // The new private key is kept: the update might still land and publish it.
    const kept = JSON.parse(await storeState()) as { secrets: string[] };
    expect(kept.secrets.length).toBe(2);
    const busy = await call('/admin/keys/rotate', { json: {} });
    expect(busy.status).toBe(409);
    expect(busy.json['code']).toBe('operation_in_progress');
    await waitOutLateWrites();
    const next = await call('/admin/deployments/default/keysets', { json: {} });
    expect(next.status, JSON.stringify(next.json)).toBe(201);
    // The settlement put things back: only the dev key and the new prepare's key remain.
    const after = JSON.parse(await storeState()) as { secrets: string[] };
    expect(after.secrets).toEqual([DEV_KID, (next.json['keyset'] as { id: string }).id].sort());
    expect(JSON.parse(before)).toMatchObject({ secrets: [DEV_KID] });
    expect(edge.logs.join('\n')).not.toContain('keyring_corrupt');
  });

  it('answers 502 with nothing changed when the private key is refused (4xx)', async () => {
    const before = await storeState();
    edge.api.state.injectFault({ method: 'POST', path: /\/secrets$/, status: 400 });
    const res = await call('/admin/keys/rotate', { json: {} });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ code: 'upstream_failed', outcome: 'not_committed' });
    expect(String(res.json['error'])).toMatch(/Nothing was changed/);
    expect(await storeState()).toBe(before);
    // No intent is left: the next operation goes ahead at once.
    expect((await call('/admin/keys/rotate', { json: {} })).status).toBe(200);
  });

  it('publishes nothing without its private key when a config update lands after its timeout (late write)', async () => {
    // The PATCH is held past the 400 ms client timeout and then handled: it lands about 2 s after
    // the service has answered, inside the late-write bound (3 s). It is never sent again.
    edge.api.state.injectFault({ method: 'PATCH', path: /\/items$/, delayMs: 2500 });
    const res = await call('/admin/keys/rotate', { json: {} });
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ code: 'upstream_timeout', outcome: 'unknown' });
    // Not yet visible: the write has not landed when the answer is given.
    const early = await call('/.well-known/jwks.json', { auth: false });
    expect((early.json['keys'] as unknown[]).length).toBe(1);
    expect(String(res.json['error'])).not.toMatch(/Nothing was changed/);
    const created = (JSON.parse(await storeState()) as { secrets: string[] }).secrets.find(
      (n) => n !== DEV_KID,
    );
    expect(created).toBeDefined();
    // The late write lands: the new kid is published and signs, with its private key.
    await until(
      async () => (await call('/.well-known/jwks.json', { auth: false })).json,
      (j) => JSON.stringify(j).includes(String(created)),
    );
    const signed = await call('/admin/keys/sign', { json: { id: 'late-write' } });
    expect(signed.status).toBe(200);
    expect(signed.json['kid']).toBe(created);
    const verified = await call('/verify-signature', {
      auth: false,
      json: { payload: signed.json['payload'], signature: signed.json['signature'], kid: created },
    });
    expect(verified.json['verified']).toBe(true);
    // Once the bound has passed, the next operation finds the rotate committed and goes on.
    await waitOutLateWrites();
    const list = await call('/admin/deployments/default/keysets', { method: 'GET' });
    expect(list.json['version']).toBe(1);
    const next = await call('/admin/keys/rotate', { json: {} });
    expect(next.status).toBe(200);
    expect(next.json['previous_kid']).toBe(created);
    const secrets = (JSON.parse(await storeState()) as { secrets: string[] }).secrets;
    expect(secrets).toContain(created);
  });

  it('answers 503 outcome unknown when creating the private key fails with a 5xx, and settles to nothing changed', async () => {
    const before = await storeState();
    edge.api.state.injectFault({ method: 'POST', path: /\/secrets$/, status: 500 });
    const res = await call('/admin/keys/rotate', { json: {} });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ code: 'outcome_unknown', outcome: 'unknown' });
    await waitOutLateWrites();
    const doctor = await call('/admin/deployments/default/keysets', { method: 'GET' });
    expect(doctor.status).toBe(200);
    expect((await call('/admin/keys/rotate', { json: {} })).status).toBe(200);
    expect(JSON.parse(await storeState()).secrets.length).toBe(
      JSON.parse(before).secrets.length + 1,
    );
  });

  it('answers 504 when the Fastly API is slower than the bound, and leaves the stores consistent', async () => {
    const before = await storeState();
    edge.api.state.injectFault({ method: 'GET', path: /\/items$/, delayMs: 1500, times: Infinity });
    const res = await call('/admin/keys/rotate', { json: {} });
    expect(res.status).toBe(504);
    expect(res.json['code']).toBe('upstream_timeout');
    expect(await storeState()).toBe(before);
  });

  it('answers 503 when Fastly rate-limits, passing Retry-After on', async () => {
    edge.api.state.injectFault({ path: /\/items$/, status: 429 });
    const res = await call('/admin/keys/rotate', { json: {} });
    expect(res.status).toBe(503);
    expect(res.json['code']).toBe('upstream_rate_limited');
  });

  it('answers 503 not_configured when the Fastly API token is missing, and 502 when Fastly rejects it', async () => {
    await edge.client.putSecret(edge.stores.apiKeysStoreId, 'api_key', 'not-the-token', 'upsert');
    const rejected = await call('/admin/keys/rotate', { json: {} });
    expect(rejected.status).toBe(502);
    expect(String(rejected.json['error'])).toMatch(/rejected the API token/);
    await edge.client.deleteSecret(edge.stores.apiKeysStoreId, 'api_key');
    const missing = await call('/admin/keys/rotate', { json: {} });
    expect(missing.status).toBe(503);
    expect(missing.json['code']).toBe('not_configured');
  });

  it('answers 502 when the version cannot be claimed, and says no key store was changed', async () => {
    const before = await storeState();
    const claim = await nextClaimKey(edge);
    edge.api.state.injectFault({ method: 'PUT', path: /\/kv\/[^/]+\/keys\//, status: 503 });
    const res = await call('/admin/deployments/default/keysets', { json: {} });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ code: 'upstream_failed', committed: false });
    expect(String(res.json['detail'])).toMatch(
      /Claiming the deployment's next keyring version failed, so no key store was changed/,
    );
    expect(await storeState()).toBe(before);
    expect(await edge.client.kvGet(edge.stores.locksStoreId, claim)).toBeNull();
  });

  it('answers 502 problem+json when the keyring cannot be read for listing', async () => {
    edge.api.state.injectFault({ method: 'GET', path: /\/items$/, status: 500, times: Infinity });
    const res = await call('/admin/deployments/default/keysets', { method: 'GET' });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json).toMatchObject({ code: 'upstream_failed', status: 502, upstream_status: 500 });
  });

  it('keeps serving the JWKS from the edge stores while the Fastly API is down', async () => {
    edge.api.state.injectFault({ path: /.*/, status: 503, times: Infinity });
    const res = await call('/.well-known/jwks.json', { auth: false });
    expect(res.status).toBe(200);
    expect((res.json['keys'] as unknown[]).length).toBe(1);
  });
});

describe('restarts', () => {
  it('keeps keys and the admin token across a restart', async () => {
    const rotated = await call('/admin/keys/rotate', { json: {} });
    const token = edge.adminToken;
    const dir = edge.stateDir;
    await edge.stop(true);
    edge = await startTestEdge({ stateDir: dir });
    expect(edge.adminToken).toBe(token);
    const jwks = await call('/.well-known/jwks.json', { auth: false });
    expect((jwks.json['keys'] as Array<{ kid: string }>).map((k) => k.kid)).toEqual([
      DEV_KID,
      rotated.json['new_kid'],
    ]);
    expect(edge.stores.created).toEqual([]);
  });
});
