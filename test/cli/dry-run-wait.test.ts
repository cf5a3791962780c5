// tsctl's --dry-run, --wait and --deployment-name against a real local edge: a dry run prints the
// preview and changes nothing; --wait reports propagation and exits 9 when the edge is not there
// yet; every command takes --deployment-name, and those that serve only default say so (exit 2).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STATE_FILE } from '../../src/local-api/database.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { DEV_KID, edgeEnv, tsctl } from './harness.js';

let edge: TestEdge | undefined;
let settingsFile: string | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
  if (settingsFile) await rm(settingsFile, { force: true });
  settingsFile = undefined;
});

const stateBytes = (): Promise<Buffer> => readFile(join((edge as TestEdge).stateDir, STATE_FILE));

describe('tsctl --dry-run', () => {
  it('prints what would change and the warnings, changes nothing, exits 0', async () => {
    edge = await startTestEdge();
    const env = edgeEnv(edge);
    expect((await tsctl(['keys', 'rotate', '--kid', 'next'], { env })).code).toBe(0);

    const bytes = await stateBytes();
    const removal = await tsctl(['keyset', 'remove', DEV_KID, '--dry-run'], { env });
    expect(removal.code).toBe(0);
    expect(removal.stdout).toBe(
      [
        'Dry run: nothing was changed. The change would do this:',
        `  - key set ${DEV_KID} (removed for good)`,
        `  JWKS: -${DEV_KID}`,
        `  write: one bulk config update: set active-kids, set keyring, set jwks-document, set discovery-document, delete ${DEV_KID}`,
        `  write: delete private key ${DEV_KID}`,
        '',
      ].join('\n'),
    );
    expect(removal.stderr).toMatch(
      new RegExp(`^tsctl: warning: recent_signatures: ${DEV_KID} stopped signing at `, 'm'),
    );
    expect(removal.stderr).toMatch(/^tsctl: warning: single_published_key: /m);
    expect((await stateBytes()).equals(bytes)).toBe(true);

    const rotate = await tsctl(['keys', 'rotate', '--kid', 'third', '--dry-run'], { env });
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toContain('  + key set third\n');
    expect(rotate.stdout).toContain('  signing kid: next → third\n');
    const json = await tsctl(['keyset', 'activate', DEV_KID, '--dry-run', '-o', 'json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ dry_run: true, operation: 'activate' });
    const repair = await tsctl(['doctor', '--repair', '--dry-run'], { env });
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain('Dry run: --repair would find nothing to repair');
    expect((await stateBytes()).equals(bytes)).toBe(true);

    // A dry run of a refused change is refused the same way (exit 1, the server's code).
    const refused = await tsctl(['keyset', 'taint', 'next', '--dry-run'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tsctl: invalid_transition: cannot taint active key set');
    // Nothing to wait for in a dry run, and --wait-timeout means nothing without --wait.
    const both = await tsctl(['keyset', 'prepare', '--dry-run', '--wait'], { env });
    expect(both.code).toBe(2);
    const lone = await tsctl(['keyset', 'prepare', '--wait-timeout', '5'], { env });
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('--wait-timeout needs --wait');
    expect((await stateBytes()).equals(bytes)).toBe(true);
  });
});

describe('tsctl --wait', () => {
  it('reports propagation; exits 9 when the edge does not serve the change in time', async () => {
    edge = await startTestEdge({ propagationDelayMs: 2000 });
    const env = edgeEnv(edge);
    const waited = await tsctl(['keyset', 'prepare', '--kid', 'next', '--wait'], { env });
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(
      /^Keyset next prepared\.\nPropagated: the edge serves keyring version 1 \(after [\d.]+ s\)\.\n$/,
    );
    const late = await tsctl(
      ['keyset', 'activate', 'next', '--force', '--wait', '--wait-timeout', '0.2', '-o', 'json'],
      { env },
    );
    expect(late.code).toBe(9);
    expect(JSON.parse(late.stdout)).toMatchObject({
      propagation: { propagated: false, keyring_version: 2, edge_keyring_version: 1 },
    });
    expect(late.stderr).toContain(
      'tsctl: not_propagated: the change committed (keyring version 2), but after',
    );
  });
});

describe('tsctl --deployment-name', () => {
  it('is taken by every command; those that serve only default refuse another name (exit 2)', async () => {
    settingsFile = join(tmpdir(), `tsk-settings-cli-${process.pid}-${Date.now()}.toml`);
    const base = await readFile('trusted-server.toml', 'utf8');
    await writeFile(
      settingsFile,
      `${base}\n[deployments.staging]\nconfig_store = "jwks_store_staging"\nconfig_store_id = "set-by-local-edge"\nsecret_store = "signing_keys_staging"\nsecret_store_id = "set-by-local-edge"\n`,
    );
    edge = await startTestEdge({ settingsPath: settingsFile });
    const env = edgeEnv(edge);
    const staging = ['--deployment-name', 'staging'];
    expect((await tsctl(['keyset', 'prepare', '--kid', 'stg-1', ...staging], { env })).code).toBe(
      0,
    );
    const jwks = await tsctl(['jwks', '-o', 'json', ...staging], { env });
    expect(JSON.parse(jwks.stdout).keys.map((k: { kid: string }) => k.kid)).toEqual(['stg-1']);
    const list = await tsctl(['keys', 'list', '-o', 'json', ...staging], { env });
    expect(JSON.parse(list.stdout)).toEqual({ current_kid: null, active_kids: ['stg-1'] });
    // doctor reads staging's stores (which have no signing key yet: a finding, exit 7).
    const doctor = await tsctl(['doctor', ...staging], { env });
    expect(doctor.stdout).toMatch(/^Deployment staging \(keyring version 1\)/);

    for (const [argv, says] of [
      [['keys', 'rotate'], 'tsctl keyset prepare --deployment-name staging'],
      [['keys', 'deactivate', 'stg-1'], 'tsctl keyset deactivate stg-1 --deployment-name staging'],
      [['verify', '--kid', 'k', '--payload', 'p', '--signature', 's'], 'add --local'],
      [['token', 'create', '--role', 'viewer'], 'one admin_tokens store serves every deployment'],
    ] as const) {
      const out = await tsctl([...argv, ...staging], { env });
      expect([argv.join(' '), out.code]).toEqual([argv.join(' '), 2]);
      expect(out.stderr).toContain('serves deployment "default" only');
      expect(out.stderr).toContain(says);
    }
    // The default deployment is untouched by all of it.
    const defaultJwks = await tsctl(['jwks', '-o', 'json'], { env });
    expect(JSON.parse(defaultJwks.stdout).keys.map((k: { kid: string }) => k.kid)).toEqual([
      DEV_KID,
    ]);
  });
});
