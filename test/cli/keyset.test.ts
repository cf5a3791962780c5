// The SPIRL runbook through tsctl against a real local edge, in both output modes, plus the
// refusals (exit 1) and the lost-update protection (If-Match, exit 3, never retried).
import { afterEach, describe, expect, it } from 'vitest';
import { nextClaimKey, startTestEdge, type TestEdge } from '../support/local-edge.js';
import { DEV_KID, edgeEnv, KEYSETS, tsctl } from './harness.js';

let edge: TestEdge;
afterEach(async () => {
  await edge?.stop();
});

const TABLE_HEADER = /^Type\s+Keyset ID\s+Issued At\s+Expires At\s+State$/m;
const row = (id: string, state: string) =>
  new RegExp(
    `^Ed25519  ${id.replace(/\./g, '\\.')}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC  .+ UTC  ${state}$`,
    'm',
  );

describe('tsctl keyset: the runbook on the local edge', () => {
  it('list → prepare → activate → taint → remove, printing one readable line per change', async () => {
    edge = await startTestEdge();
    const env = edgeEnv(edge);

    // The token file `npm start` writes ends in a newline; tsctl trims it.
    const listed = await tsctl(['keyset', 'list', '--token-file', edge.adminTokenFile], {
      env: { TSCTL_ENDPOINT: edge.edgeUrl },
    });
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(listed.stdout).not.toContain(edge.adminToken);
    expect(listed.stdout).toMatch(/^Deployment: default \(keyring version 0, updated .+ UTC\)\n\n/);
    expect(listed.stdout).toMatch(TABLE_HEADER);
    expect(listed.stdout).toMatch(row(DEV_KID, 'Active'));

    const prepared = await tsctl(['keyset', 'prepare', '--kid', 'next-1'], { env });
    expect(prepared).toEqual({ code: 0, stdout: 'Keyset next-1 prepared.\n', stderr: '' });

    // Published a moment ago: partners' cached JWKS may not hold it, so it may not sign yet.
    const early = await tsctl(['keyset', 'activate', 'next-1'], { env });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /^tsctl: activation_too_early: key set "next-1" has been published since .+ It may sign from \d{4}-\d\d-\d\dT/,
    );
    const activated = await tsctl(['keyset', 'activate', 'next-1', '--force'], { env });
    expect(activated.stdout).toBe(`Keyset next-1 activated. ${DEV_KID} is now Prepared.\n`);

    const tainted = await tsctl(['keyset', 'taint', DEV_KID], { env });
    expect(tainted.stdout).toMatch(
      new RegExp(
        `^Keyset ${DEV_KID} tainted\\. It verifies only payloads whose ts is before \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(its taint cutoff\\)\\.\\n$`,
      ),
    );
    const afterTaint = (await tsctl(['keyset', 'list'], { env })).stdout;
    expect(afterTaint).toMatch(row(DEV_KID, 'Tainted'));
    expect(afterTaint).toMatch(row('next-1', 'Active'));

    const removed = await tsctl(['keyset', 'remove', DEV_KID], { env });
    expect(removed).toEqual({ code: 0, stdout: `Keyset ${DEV_KID} removed.\n`, stderr: '' });
    const final = await tsctl(['keyset', 'list'], { env });
    expect(final.stdout).toMatch(/keyring version 4/);
    expect(final.stdout).not.toContain(DEV_KID);
  });

  it('with -o json prints the API answers verbatim: the keyring for list, {operation, keyset, keyring} for changes', async () => {
    edge = await startTestEdge();
    const env = edgeEnv(edge);
    const prepared = JSON.parse((await tsctl(['keyset', 'prepare', '-o', 'json'], { env })).stdout);
    expect(prepared).toMatchObject({ operation: 'prepare', keyset: { state: 'PREPARED' } });
    expect(prepared.keyring.version).toBe(1);
    const id: string = prepared.keyset.id;
    expect(id).toMatch(/^ts-\d{4}-\d\d-\d\d/);
    // Once committed, the keyring is stable: list prints exactly the bytes the API serves.
    const direct = await (await edge.call(KEYSETS, { method: 'GET' })).text();
    const listed = await tsctl(['keyset', 'list', '-o', 'json'], { env });
    expect(listed).toEqual({ code: 0, stdout: `${direct}\n`, stderr: '' });

    for (const [args, operation] of [
      [['keyset', 'activate', id, '--force'], 'activate'],
      [['keyset', 'taint', DEV_KID], 'taint'],
      [['keyset', 'deactivate', DEV_KID], 'deactivate'],
      [['keyset', 'restore', DEV_KID], 'restore'],
      [['keyset', 'remove', DEV_KID], 'remove'],
    ] as const) {
      const out = await tsctl([...args, '--output=json'], { env });
      expect(out.code).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({ operation });
    }
    const keyring = JSON.parse((await tsctl(['keyset', 'list', '-o', 'json'], { env })).stdout);
    expect(keyring).toMatchObject({ schema: 1, deployment: 'default', version: 6 });
    expect(keyring.keysets.map((k: { id: string; state: string }) => [k.id, k.state])).toEqual([
      [id, 'ACTIVE'],
    ]);
  });
});

describe('tsctl keyset: refusals and conflicts', () => {
  it('exits 1 with the server code for a refused transition, an unknown key set or deployment', async () => {
    edge = await startTestEdge();
    const out = await tsctl(['keyset', 'taint', DEV_KID], { env: edgeEnv(edge) });
    expect(out).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tsctl: invalid_transition: cannot taint active key set\n',
    });
    const unknown = await tsctl(['keyset', 'activate', 'nope-1'], { env: edgeEnv(edge) });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^tsctl: keyset_not_found: /);
    const nowhere = await tsctl(['keyset', 'list', '--deployment-name', 'nope'], {
      env: edgeEnv(edge),
    });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/^tsctl: deployment_not_found: /);
  });

  it('sends If-Match with the version it read: exits 3 when the keyring moved on, without retrying', async () => {
    edge = await startTestEdge();
    const mutations: string[] = [];
    // Someone else prepares a key set between tsctl's read and its change.
    const racing: typeof fetch = async (input, init) => {
      if (init?.method !== 'GET') {
        mutations.push(new Headers(init?.headers).get('if-match') ?? '');
        expect((await edge.call(KEYSETS, { json: { kid: 'other-1' } })).status).toBe(201);
      }
      return fetch(input, init);
    };
    const out = await tsctl(['keyset', 'prepare'], { env: edgeEnv(edge), fetch: racing });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(
      /^tsctl: keyring_version_mismatch: the keyring is at version 1, not 0/,
    );
    expect(out.stderr).toMatch(/^tsctl: hint: .*`tsctl keyset list`/m);
    expect(mutations).toEqual(['"0"']);
    const keyring = await (await edge.call(KEYSETS, { method: 'GET' })).json();
    expect(keyring.keysets.map((k: { id: string }) => k.id)).toEqual([DEV_KID, 'other-1']);
  });

  it('exits 3 while another operation holds the deployment lease, naming the holder', async () => {
    edge = await startTestEdge();
    const lease = {
      operation: 'rotate',
      holder: 'someone',
      request_id: 'r',
      started_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 120_000).toISOString(),
    };
    // The claim on the version the next change writes.
    await edge.client.kvPut(
      edge.stores.locksStoreId,
      await nextClaimKey(edge),
      JSON.stringify({ lease, intent: null }),
      { add: true },
    );
    const out = await tsctl(['keyset', 'prepare', '--deployment-name', 'default'], {
      env: edgeEnv(edge),
    });
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/^tsctl: operation_in_progress: .*rotate by someone/);
    expect(out.stderr).toContain('tsctl: hint: nothing was changed or retried');
  });
});
