// The audit trail through real HTTP on the local edge, written to its audit file. The admin gate's
// rate limits and penalty box are tested in-process in test/http/admin-gate.test.ts.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

let edge: TestEdge;
afterEach(async () => {
  await edge?.stop();
});

async function auditLines(): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(edge.auditFile, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

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
