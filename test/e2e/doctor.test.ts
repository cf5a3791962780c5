// Doctor over real HTTP on the local edge, and through tsctl: what it finds when the stores are
// damaged from outside or an operation's outcome was unknown, and what --repair does.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { edgeEnv, tsctl } from '../cli/harness.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';
const LATE_MS = 1200;
const DOCTOR = '/admin/deployments/default/doctor';

let edge: TestEdge;
afterEach(async () => {
  await edge.stop();
});

async function start(): Promise<TestEdge> {
  edge = await startTestEdge({
    configure: (s) => ({
      ...s,
      fastly_api: { ...s.fastly_api, timeout_ms: 400, lease_ms: 5000, late_write_ms: LATE_MS },
    }),
  });
  return edge;
}

interface Report {
  healthy: boolean;
  keyring_version: number | null;
  findings: Array<{
    code: string;
    severity: string;
    kid?: string;
    fix: string;
    repairable: boolean;
  }>;
  repaired?: string[];
}

async function report(method: 'GET' | 'POST' = 'GET'): Promise<Report> {
  const res = await edge.call(DOCTOR, method === 'POST' ? { json: {} } : { method });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

describe('doctor', () => {
  it('finds nothing on a fresh deployment, and tsctl doctor exits 0', async () => {
    await start();
    expect(await report()).toEqual({
      deployment: 'default',
      healthy: true,
      keyring_version: 0,
      findings: [],
    });
    const out = await tsctl(['doctor'], { env: edgeEnv(edge) });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Deployment default .*: healthy/);
  });

  it('reports a private key no record knows, exits 7, and keyset remove deletes it', async () => {
    await start();
    await edge.client.putSecret(
      edge.stores.signingKeysStoreId,
      'ts-2026-01-01',
      DEV_SEED,
      'create',
    );
    const found = await report();
    expect(found.healthy).toBe(false);
    expect(found.findings).toEqual([
      expect.objectContaining({
        code: 'orphan_private_key',
        kid: 'ts-2026-01-01',
        severity: 'warning',
        repairable: false,
        fix: expect.stringContaining('tsctl keyset remove ts-2026-01-01'),
      }),
    ]);
    const out = await tsctl(['doctor'], { env: edgeEnv(edge) });
    expect(out.code).toBe(7);
    expect(out.stdout).toContain('orphan_private_key ts-2026-01-01');
    // --repair never deletes a private key on a guess.
    expect((await report('POST')).findings.map((f) => f.code)).toEqual(['orphan_private_key']);
    const removed = await tsctl(['keyset', 'remove', 'ts-2026-01-01'], { env: edgeEnv(edge) });
    expect(removed.code).toBe(0);
    expect((await report()).healthy).toBe(true);
  });

  it('reports a published kid whose private key is gone as an error naming the fix', async () => {
    await start();
    await edge.client.deleteSecret(edge.stores.signingKeysStoreId, DEV_KID);
    const found = await report();
    expect(found.findings).toEqual([
      expect.objectContaining({
        code: 'keyless_kid',
        kid: DEV_KID,
        severity: 'error',
        fix: expect.stringMatching(/prepare and activate a new key set/),
      }),
    ]);
  });

  it('shows an unknown-outcome operation as pending, then --repair settles it once no write can land', async () => {
    await start();
    const disarm = edge.api.state.injectFault({
      method: 'PATCH',
      path: /\/items$/,
      status: 503,
      times: Infinity,
    });
    const rotated = await tsctl(['keys', 'rotate'], { env: edgeEnv(edge) });
    disarm();
    expect(rotated.code).toBe(6);
    expect(rotated.stderr).toMatch(/outcome of this rotate is unknown/);
    expect(rotated.stderr).toMatch(/tsctl doctor/);
    const pending = await report();
    expect(pending.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'pending_intent', repairable: false }),
      ]),
    );
    // The intent names the new private key, so it is accounted for, not an orphan.
    expect(pending.findings.map((f) => f.code)).not.toContain('orphan_private_key');
    const early = await edge.call(DOCTOR, { json: {} });
    expect(early.status).toBe(409);
    await new Promise((r) => setTimeout(r, LATE_MS + 100));
    const repaired = await report('POST');
    expect(repaired.repaired?.[0]).toMatch(
      /^settled: rotate .* had not committed; .*deleted private key ts-/,
    );
    expect(repaired).toMatchObject({ healthy: true, findings: [] });
    const secrets = await edge.client.listSecrets(edge.stores.signingKeysStoreId);
    expect(secrets.map((s) => s.name)).toEqual([DEV_KID]);
    // The audit trail says the rotate's outcome was unknown, and what the repair settled.
    const audit = (await readFile(edge.auditFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.find((l) => l['operation'] === 'rotate')).toMatchObject({
      outcome: 'unknown',
      status: 503,
      error_code: 'outcome_unknown',
    });
    expect(audit.find((l) => l['operation'] === 'repair' && l['status'] === 200)).toMatchObject({
      outcome: 'allowed',
      settled: expect.stringMatching(/^rotate .* had not committed/),
    });
  });

  it('clears the lease of an operation that died, and says so', async () => {
    await start();
    const dead = {
      lease: {
        operation: 'rotate',
        holder: 'gone',
        request_id: 'dead1',
        started_at: '2026-01-01T00:00:00.000Z',
        expires_at: '2026-01-01T00:02:00.000Z',
      },
      intent: null,
    };
    await edge.client.kvPut(edge.stores.locksStoreId, 'default', JSON.stringify(dead), {});
    expect((await report()).findings).toEqual([
      expect.objectContaining({ code: 'stale_lease', repairable: true }),
    ]);
    const out = await tsctl(['doctor', '--repair'], { env: edgeEnv(edge) });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Repaired: rotate by gone \(request dead1\) died holding the lease/);
    expect(await edge.client.kvGet(edge.stores.locksStoreId, 'default')).toBeNull();
  });

  it('answers 502 problem+json, changing nothing, when the lock record cannot be read', async () => {
    await start();
    const disarm = edge.api.state.injectFault({
      method: 'GET',
      path: /\/kv\/[^/]+\/keys\//,
      status: 503,
      times: Infinity,
    });
    const res = await edge.call(DOCTOR, { method: 'GET' });
    const repair = await edge.call(DOCTOR, { json: {} });
    disarm();
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'upstream_failed', upstream_status: 503 });
    expect(repair.status).toBe(502);
    expect(await report()).toMatchObject({ healthy: true, findings: [] });
  });

  it('needs the operator role to repair', async () => {
    await start();
    const res = await edge.call(DOCTOR, { json: {}, auth: 'nobody.' + 'x'.repeat(43) });
    expect(res.status).toBe(401);
  });
});
