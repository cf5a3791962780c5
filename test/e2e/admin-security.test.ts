// Rate limits, the penalty box and the audit trail, through real HTTP on the local edge.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/core/rate-limit/memory-rate-limiter.js';
import type { Settings } from '../../src/core/settings.js';
import { handle } from '../../src/http/app.js';
import type { Services } from '../../src/http/services.js';
import { jsonLogger, localServices } from '../../src/platform/node/services.js';
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

  it('puts a client that keeps failing to authenticate in the penalty box; a valid token still gets through', async () => {
    // One IP for everyone, as behind a NAT: an attacker's failures must not lock out the operator.
    edge = await startTestEdge({
      configure: limits({ auth_failures_per_minute: 3, penalty_minutes: 2 }),
    });
    const wrong = `local-admin.${'x'.repeat(43)}`;
    for (let i = 0; i < 3; i++) {
      expect((await edge.call('/admin/keys/rotate', { auth: wrong, json: {} })).status).toBe(401);
    }
    const boxed = await edge.call('/admin/keys/rotate', { auth: wrong, json: {} });
    expect(boxed.status).toBe(429);
    expect(Number(boxed.headers.get('retry-after'))).toBeGreaterThan(100);
    expect(Number(boxed.headers.get('retry-after'))).toBeLessThanOrEqual(120);
    expect((await boxed.json()).error).toMatch(/too many failed authentications/);
    expect((await edge.call('/admin/keys/rotate', { auth: false, json: {} })).status).toBe(429);
    // The operator, from the same IP, with the right token.
    expect((await edge.call('/admin/keys/sign', { json: { id: 'nat' } })).status).toBe(200);
    expect((await edge.call('/admin/deployments/default/keysets')).status).toBe(200);
    // Its success does not lift the box for everyone else.
    expect((await edge.call('/admin/keys/rotate', { auth: wrong, json: {} })).status).toBe(429);
  });

  it('does not let anonymous traffic from a shared IP use up a valid token’s requests', async () => {
    edge = await startTestEdge({ configure: limits({ requests_per_minute: 3 }) });
    const anonymous: number[] = [];
    for (let i = 0; i < 5; i++)
      anonymous.push((await edge.call('/admin/nothing-here', { auth: false })).status);
    expect(anonymous).toEqual([404, 404, 404, 429, 429]);
    // The token's own budget applies instead: 3 a minute.
    const valid: number[] = [];
    for (let i = 0; i < 4; i++)
      valid.push((await edge.call('/admin/deployments/default/keysets')).status);
    expect(valid).toEqual([200, 200, 200, 429]);
  });
});

// Its own limits are settings, which the wasm has built in.
describe.skipIf(TEST_TARGET === 'wasm')('the penalty box over time', () => {
  it('keeps counting a penalised client’s failures, so failing on keeps it out', async () => {
    edge = await startTestEdge({
      configure: limits({ auth_failures_per_minute: 3, penalty_minutes: 2 }),
    });
    const start = Date.UTC(2026, 11, 2, 9, 0, 0);
    let now = start;
    const clock = { now: () => now };
    const services: Services = {
      ...localServices(
        edge.settings,
        edge.api.state,
        jsonLogger(() => undefined),
        {
          write: async () => undefined,
        },
      ),
      clock,
      rateLimiter: new MemoryRateLimiter(clock),
    };
    const ask = async (token: string | null): Promise<number> => {
      const headers = new Headers({ 'content-type': 'application/json' });
      if (token) headers.set('authorization', `Bearer ${token}`);
      const request = new Request('http://localhost/admin/keys/sign', {
        method: 'POST',
        headers,
        body: '{"id":"box"}',
      });
      return (await handle(request, services, { ip: '192.0.2.44' })).status;
    };
    const wrong = `local-admin.${'y'.repeat(43)}`;
    const at = (seconds: number): void => {
      now = start + seconds * 1000;
    };
    expect([await ask(wrong), await ask(wrong), await ask(wrong)]).toEqual([401, 401, 401]);
    at(90); // boxed until 120 s; three more failures while boxed
    expect([await ask(wrong), await ask(null), await ask(wrong)]).toEqual([429, 429, 429]);
    at(150); // the first box is over, but the failures made while in it started a new one
    expect(await ask(wrong)).toBe(429);
    expect(await ask(edge.adminToken)).toBe(200);
    at(600); // long after every box: a wrong token is an ordinary 401 again
    expect(await ask(wrong)).toBe(401);
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

  it('records a non-canonical admin path as sent, refused before any handler', async () => {
    edge = await startTestEdge();
    const res = await edge.call('/%61dmin/keys/sign', { json: { id: 'spelled' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'non_canonical_path' });
    const [line] = await auditLines();
    expect(line).toMatchObject({
      actor: 'local-admin',
      path: '/%61dmin/keys/sign',
      route: null,
      outcome: 'refused',
      status: 400,
      error_code: 'non_canonical_path',
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
