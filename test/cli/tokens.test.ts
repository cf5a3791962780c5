// `tsctl token create|list|delete --local` against a real local edge found from its state
// directory alone: no silent replacement of an existing id, a listing of ids, and a revocation
// the edge honours at the next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { tsctl } from './harness.js';

let edge: TestEdge;
beforeAll(async () => {
  edge = await startTestEdge();
});
afterAll(async () => {
  await edge?.stop();
});

/** Only the state directory: where the API runs must come from the edge's own record. */
const local = (): string[] => ['--local', '--state-dir', edge.stateDir];

async function create(id: string, role: string, ...extra: string[]) {
  const out = await tsctl(
    ['token', 'create', '--role', role, '--id', id, ...local(), '-o', 'json', ...extra],
    {
      env: {},
    },
  );
  return { out, token: out.code === 0 ? (JSON.parse(out.stdout).token as string) : '' };
}

const asToken = (token: string) => ({ env: { TSCTL_ENDPOINT: edge.edgeUrl, TSCTL_TOKEN: token } });

describe('tsctl token --local', () => {
  it('finds the running local API from the state directory, without TSK_API_PORT', async () => {
    const { out, token } = await create('ops-find', 'operator');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).installed).toEqual({
      api_endpoint: edge.apiUrl,
      store_id: edge.stores.adminTokensStoreId,
    });
    expect((await tsctl(['keyset', 'list'], asToken(token))).code).toBe(0);
  });

  it('refuses to replace an existing id, which keeps working with its role; --replace replaces', async () => {
    const { token: operator } = await create('ops-keep', 'operator');
    const { out } = await create('ops-keep', 'viewer');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      'tsctl: token_exists: a token with id "ops-keep" already exists in the local admin_tokens store; nothing was changed',
    );
    expect(JSON.parse(out.stdout).error).toMatchObject({ code: 'token_exists', exit_code: 1 });
    // Still an operator: it may change keys.
    const prepared = await tsctl(['keyset', 'prepare'], asToken(operator));
    expect(prepared.code, prepared.stderr).toBe(0);

    const { out: replaced, token: viewer } = await create('ops-keep', 'viewer', '--replace');
    expect(replaced.code).toBe(0);
    expect((await tsctl(['keyset', 'list'], asToken(operator))).code).toBe(4);
    expect((await tsctl(['keyset', 'list'], asToken(viewer))).code).toBe(0);
  });

  it('lists ids and creation times, never roles or hashes', async () => {
    await create('viewer-list', 'viewer');
    const out = await tsctl(['token', 'list', ...local(), '-o', 'json'], { env: {} });
    expect(out.code).toBe(0);
    const listed = JSON.parse(out.stdout);
    expect(listed.store_id).toBe(edge.stores.adminTokensStoreId);
    const ids = (listed.tokens as { id: string; created_at: string }[]).map((t) => t.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['local-admin', 'viewer-list']));
    for (const t of listed.tokens) expect(t.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(out.stdout).not.toMatch(/sha256|operator|viewer"/);
    const pretty = await tsctl(['token', 'list', ...local()], { env: {} });
    expect(pretty.stdout).toMatch(/^ID\s+CREATED\n/);
    expect(pretty.stdout).toMatch(/^viewer-list\s+\d{4}-/m);
  });

  it('deletes a token, which the edge then refuses; an unknown id is exit 1', async () => {
    const { token } = await create('ops-gone', 'operator');
    expect((await tsctl(['keyset', 'list'], asToken(token))).code).toBe(0);
    const out = await tsctl(['token', 'delete', 'ops-gone', ...local()], { env: {} });
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toContain('Token ops-gone deleted from the local admin_tokens store');
    const refused = await tsctl(['keyset', 'list'], asToken(token));
    expect(refused.code).toBe(4);
    const again = await tsctl(['token', 'delete', 'ops-gone', ...local()], { env: {} });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('tsctl: token_not_found: no token with id "ops-gone"');
  });

  it('without --local prints the Fastly CLI commands; --replace needs --local', async () => {
    const list = await tsctl(['token', 'list'], { env: {} });
    expect(list.stdout).toContain('fastly secret-store-entry list --store-id=<admin_tokens id>');
    const del = await tsctl(['token', 'delete', 'ops-x'], { env: {} });
    expect(del.stdout).toContain(
      'fastly secret-store-entry delete --store-id=<admin_tokens id> --name=ops-x',
    );
    const bad = await tsctl(['token', 'delete', 'bad id'], { env: {} });
    expect(bad.code).toBe(2);
    const replace = await tsctl(['token', 'create', '--role', 'viewer', '--replace'], { env: {} });
    expect(replace.code).toBe(2);
    expect(replace.stderr).toContain('--replace needs --local');
  });
});
