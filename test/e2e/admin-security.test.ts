// Rate limits, the penalty box and the audit trail, through real HTTP on the local edge.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/core/settings.js';
import { startTestEdge, TEST_TARGET, type TestEdge } from '../support/local-edge.js';

const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

let edge: TestEdge;
afterEach(async () => {
  await edge?.stop();
});

const limits =
  (admin: Partial<Settings['admin']>) =>
  (s: Settings): Settings => ({ ...s, admin: { ...s.admin, ...admin } });

async function auditLines(): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(edge.auditFile, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// Each case sets its own limits, and the wasm's settings are built in: these run on Node only (the
// wasm's rate limiter and penalty box are covered in test/local-compute/wasm-parity.test.ts).
describe.skipIf(TEST_TARGET === 'wasm')('rate limiting', () => {
  it('answers 429 with Retry-After past the per-client limit, and counts unknown admin paths too', async () => {
    edge = await startTestEdge({ configure: limits({ requests_per_minute: 5 }) });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await edge.call('/admin/deployments/default/keysets', { method: 'GET' })).status,
      );
    statuses.push((await edge.call('/admin/nothing-here', { method: 'GET' })).status);
    const limited = await edge.call('/admin/deployments/default/keysets', { method: 'GET' });
    expect(statuses).toEqual([200, 200, 200, 200, 404]);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toMatchObject({ code: 'rate_limited' });
    // Public routes are not admin routes: never limited by the admin gate.
    expect((await edge.call('/.well-known/jwks.json', { auth: false })).status).toBe(200);
  });

  it('counts malformed admin paths (encoded separators) against the limit as well', async () => {
    edge = await startTestEdge({ configure: limits({ requests_per_minute: 2 }) });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await edge.call('/admin%2Fkeys%2Frotate', { json: {} })).status);
    expect(statuses).toEqual([400, 400, 429]);
  });

  it('puts a client that keeps failing to authenticate in the penalty box, valid token or not', async () => {
    edge = await startTestEdge({
      configure: limits({ auth_failures_per_minute: 3, penalty_minutes: 2 }),
    });
    for (let i = 0; i < 3; i++) {
      expect(
        (await edge.call('/admin/keys/rotate', { auth: `local-admin.${'x'.repeat(43)}`, json: {} }))
          .status,
      ).toBe(401);
    }
    const boxed = await edge.call('/admin/keys/rotate', { json: {} }); // now with the right token
    expect(boxed.status).toBe(429);
    expect(Number(boxed.headers.get('retry-after'))).toBeGreaterThan(100);
    expect(Number(boxed.headers.get('retry-after'))).toBeLessThanOrEqual(120);
    expect((await boxed.json()).error).toMatch(/too many failed authentications/);
  });
});

describe('audit trail', () => {
  it('writes one line per admin request, allowed or refused, with actor, outcome and versions', async () => {
    edge = await startTestEdge();
    const rotated = (await (await edge.call('/admin/keys/rotate', { json: {} })).json()) as {
      new_kid: string;
    };
    await edge.call('/admin/deployments/default/keysets/ts-2025-10-A/taint', { method: 'POST' });
    await edge.call('/admin/keys/rotate', { auth: false, json: {} });
    await edge.call('/.well-known/jwks.json', { auth: false }); // public: not audited
    const lines = await auditLines();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      audit: true,
      actor: 'local-admin',
      method: 'POST',
      route: '/admin/keys/rotate',
      deployment: 'default',
      operation: 'rotate',
      keyset: rotated.new_kid,
      outcome: 'allowed',
      status: 200,
      error_code: null,
      keyring_version_before: 0,
      keyring_version_after: 1,
    });
    expect(lines[0]?.['client_ip']).toMatch(/127\.0\.0\.1/);
    expect(String(lines[0]?.['request_id'])).toMatch(/^[0-9a-f]{16}$/);
    expect(lines[1]).toMatchObject({
      operation: 'taint',
      keyset: 'ts-2025-10-A',
      outcome: 'allowed',
      keyring_version_before: 1,
      keyring_version_after: 2,
    });
    expect(lines[2]).toMatchObject({
      actor: 'anonymous',
      outcome: 'refused',
      status: 401,
      error_code: 'unauthorized',
    });
  });

  it('records refusals with the keyring version they were judged against', async () => {
    edge = await startTestEdge();
    await edge.call('/admin/deployments/default/keysets/ts-2025-10-A', { method: 'DELETE' });
    const [line] = await auditLines();
    expect(line).toMatchObject({
      operation: 'remove',
      outcome: 'refused',
      status: 409,
      error_code: 'invalid_transition',
      keyring_version_before: 0,
      keyring_version_after: null,
    });
  });

  it('never writes a token secret, the Fastly API token or a private key', async () => {
    edge = await startTestEdge();
    const secret = edge.adminToken.split('.')[1] ?? '';
    await edge.call('/admin/keys/rotate', { json: {} });
    await edge.call('/admin/keys/rotate', {
      auth: `local-admin.${secret.slice(0, 20)}xxxxxxxxxxxxxxxxxxxxxxx`,
      json: {},
    });
    await edge.call('/admin/keys/rotate', {
      auth: false,
      headers: {
        authorization: `Basic ${Buffer.from(`local-admin:${secret}`).toString('base64')}`,
      },
      json: {},
    });
    await edge.call('/admin/keys/sign', { json: { id: DEV_SEED } });
    const text = await readFile(edge.auditFile, 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(4);
    for (const s of [secret, edge.api.token, DEV_SEED.slice(0, 20)]) expect(text).not.toContain(s);
  });
});
