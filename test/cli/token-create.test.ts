// `tsctl token create`: the token is printed once with the entry and upload command; with
// --local it is installed through the local Fastly API and then works against the edge.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { tsctl } from './harness.js';

let edge: TestEdge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('tsctl token create', () => {
  it('prints the token once, the admin_tokens entry holding only its hash, and the upload command', async () => {
    const out = await tsctl(['token', 'create', '--role', 'operator', '--id', 'ops-alice'], {
      env: {},
    });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    const token = /^ {2}(ops-alice\.[A-Za-z0-9_-]{43})$/m.exec(out.stdout)?.[1] ?? '';
    const secret = token.slice('ops-alice.'.length);
    expect(secret).toHaveLength(43);
    expect(occurrences(out.stdout, secret)).toBe(1);
    const record = JSON.stringify({
      sha256: createHash('sha256').update(secret).digest('hex'),
      role: 'operator',
    });
    expect(out.stdout).toContain(`  name:  ops-alice\n  value: ${record}\n`);
    expect(out.stdout).toContain(
      `  printf '%s' '${record}' | fastly secret-store-entry create --store-id=<admin_tokens id> --name=ops-alice --stdin\n`,
    );
  });

  it('makes a fresh tok-<8 hex> id and secret on every run; -o json carries the same facts', async () => {
    const first = JSON.parse(
      (await tsctl(['token', 'create', '--role', 'viewer', '-o', 'json'])).stdout,
    );
    const second = JSON.parse(
      (await tsctl(['token', 'create', '--role', 'viewer', '-o', 'json'])).stdout,
    );
    expect(first.id).toMatch(/^tok-[0-9a-f]{8}$/);
    expect(first.token.startsWith(`${first.id}.`)).toBe(true);
    expect(first.token).not.toBe(second.token);
    expect(first).toMatchObject({
      role: 'viewer',
      secret_store_entry: { store: 'admin_tokens', name: first.id },
      installed: null,
    });
    expect(JSON.parse(first.secret_store_entry.value).role).toBe('viewer');
  });

  it('with --local installs it in the local edge, where it then authenticates with its role', async () => {
    edge = await startTestEdge();
    const out = await tsctl(
      [
        'token',
        'create',
        '--role',
        'viewer',
        '--local',
        '--state-dir',
        edge.stateDir,
        '--api-endpoint',
        edge.apiUrl,
        '-o',
        'json',
      ],
      { env: {} },
    );
    expect(out.code).toBe(0);
    const created = JSON.parse(out.stdout);
    expect(created.installed).toEqual({
      api_endpoint: edge.apiUrl,
      store_id: edge.stores.adminTokensStoreId,
    });
    const env = { TSCTL_ENDPOINT: edge.edgeUrl, TSCTL_TOKEN: created.token as string };
    expect((await tsctl(['keyset', 'list'], { env })).code).toBe(0);
    const refused = await tsctl(['keyset', 'prepare'], { env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^tsctl: forbidden: .*needs operator/);
  });

  it('with --local but no local state, says where it looked and prints no token', async () => {
    const out = await tsctl(['token', 'create', '--role', 'viewer', '--local'], {
      env: { TSK_STATE_DIR: '/nonexistent/tsk-state', TSK_API_PORT: '1' },
    });
    expect(out).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'tsctl: local_state_missing: cannot read the local Fastly API token /nonexistent/tsk-state/fastly-api-token (ENOENT); run `npm start` first or pass --state-dir\n',
    });
  });
});
