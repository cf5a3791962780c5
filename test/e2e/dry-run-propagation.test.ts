// Dry runs, propagation waits and every deployment's key documents through real HTTP on the local
// edge: the local Fastly API's whole state (its state file: config and secret stores, the lock
// store) is compared byte for byte around every dry run, and the edge's reads really lag the API
// (TSK_PROPAGATION_DELAY_MS), so waiting for propagation is tested against a real delay.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STATE_FILE } from '../../src/local-api/database.js';
import { startTestEdge, TEST_TARGET, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
const BASE = '/admin/deployments/default/keysets';

let edge: TestEdge | undefined;
let settingsFile: string | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
  if (settingsFile) await rm(settingsFile, { force: true });
  settingsFile = undefined;
});

type Body = Record<string, unknown> & {
  keyring: { version: number; keysets: Array<{ id: string; state: string }> };
};

async function send(path: string, init: Parameters<TestEdge['call']>[1] = {}) {
  const res = await (edge as TestEdge).call(path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

const stateBytes = (): Promise<Buffer> => readFile(join((edge as TestEdge).stateDir, STATE_FILE));
/** The local API's answered writes so far (anything but GET). */
const writes = (): number =>
  (edge as TestEdge).api.state.requestLog.filter((r) => r.method !== 'GET').length;
const states = (k: Body['keyring']): string[][] => k.keysets.map((s) => [s.id, s.state]);

describe('dry runs on the local edge', () => {
  it('leave the whole local API state byte for byte unchanged, and preview what the real call does', async () => {
    edge = await startTestEdge();
    // Adopt the development key first, so the keyring exists as a stored document.
    expect((await send(BASE, { json: { kid: 'next' } })).status).toBe(201);
    const steps: Array<[string, Parameters<TestEdge['call']>[1], string[][]]> = [
      [
        `${BASE}/next/activate`,
        // Forced: prepared a moment ago, it is inside the activation dwell.
        { json: { force: true } },
        [
          [DEV_KID, 'PREPARED'],
          ['next', 'ACTIVE'],
        ],
      ],
      [
        `${BASE}/${DEV_KID}/taint`,
        { method: 'POST' },
        [
          [DEV_KID, 'TAINTED'],
          ['next', 'ACTIVE'],
        ],
      ],
      [`${BASE}/${DEV_KID}`, { method: 'DELETE' }, [['next', 'ACTIVE']]],
      [
        '/admin/keys/rotate',
        { json: { kid: 'after' } },
        [
          ['next', 'PREPARED'],
          ['after', 'ACTIVE'],
        ],
      ],
      [
        '/admin/keys/deactivate',
        { json: { kid: 'next', delete: false } },
        [
          ['next', 'DEACTIVATED'],
          ['after', 'ACTIVE'],
        ],
      ],
    ];
    for (const [path, init, expected] of steps) {
      const bytes = await stateBytes();
      const before = writes();
      const preview = await send(`${path}?dry_run=true`, init);
      expect([path, preview.status]).toEqual([path, 200]);
      expect(preview.body['dry_run']).toBe(true);
      expect(states(preview.body.keyring)).toEqual(expected);
      // Not one write reached the local Fastly API, and its state is the same bytes.
      expect(writes()).toBe(before);
      expect((await stateBytes()).equals(bytes)).toBe(true);
      const real = await send(path, init);
      expect(real.status).toBe(200);
      const listed = await send(BASE, { method: 'GET' });
      expect(states(listed.body as unknown as Body['keyring'])).toEqual(expected);
      expect((listed.body as unknown as Body['keyring']).version).toBe(
        preview.body.keyring.version,
      );
      expect((await stateBytes()).equals(bytes)).toBe(false);
    }
    // A refused dry run (the active key cannot be removed) is refused as the real call is.
    const bytes = await stateBytes();
    const refused = await send(`${BASE}/after?dry_run=true`, { method: 'DELETE' });
    expect([refused.status, refused.body['code']]).toEqual([409, 'invalid_transition']);
    expect((await stateBytes()).equals(bytes)).toBe(true);
    // The audit trail marks dry runs.
    const audit = (await readFile((edge as TestEdge).auditFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.filter((a) => a['dry_run'] === true)).toHaveLength(steps.length + 1);
  });
});

describe('waiting for propagation against an edge that lags the API', () => {
  it('answers once the edge serves the committed version, or says it does not yet', async () => {
    const delay = 2500;
    edge = await startTestEdge({ propagationDelayMs: delay });
    const document = async () =>
      (await (await edge!.call('/.well-known/trusted-server.json', { auth: false })).json()) as {
        keyring_version: number | null;
        jwks: { keys: Array<{ kid: string }> };
      };
    const discovery = async (): Promise<number | null> => (await document()).keyring_version;
    // The first start seeded the development key through the API; the lagging edge sees it only
    // once the delay has passed (polled, bounded: the edge decides when).
    const deadline = Date.now() + delay + 10_000;
    while ((await document()).jwks.keys.length === 0) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await discovery()).toBeNull();

    // Without waiting: the commit answers at once and the edge still serves the old state.
    const quick = await send(BASE, { json: { kid: 'next' } });
    expect(quick.status).toBe(201);
    expect(quick.body['propagation']).toBeUndefined();
    expect(await discovery()).toBeNull();

    // Waiting: the answer comes once the edge serves version 2, about the delay later.
    const started = Date.now();
    const waited = await send(`${BASE}/next/activate?wait=propagation&wait_timeout_ms=20000`, {
      json: { force: true },
    });
    expect(waited.status).toBe(200);
    expect(waited.body['propagation']).toMatchObject({
      propagated: true,
      keyring_version: 2,
      edge_keyring_version: 2,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(delay - 100);
    expect(await discovery()).toBe(2);

    // A bound shorter than the lag: still 2xx, committed, propagated false with the version seen.
    const short = await send('/admin/keys/rotate?wait=propagation&wait_timeout_ms=200', {
      json: { kid: 'third' },
    });
    expect(short.status).toBe(200);
    expect(short.body['success']).toBe(true);
    expect(short.body['propagation']).toMatchObject({
      propagated: false,
      keyring_version: 3,
      edge_keyring_version: 2,
      timeout_ms: 200,
    });
  });
});

// Another deployment is a settings change, and the wasm's settings are built in.
describe.skipIf(TEST_TARGET === 'wasm')('every deployment is published', () => {
  it('serves each deployment at its own paths, default also at Trusted Server’s, with ETag/304', async () => {
    settingsFile = join(tmpdir(), `tsk-settings-dry-${process.pid}-${Date.now()}.toml`);
    const base = await readFile('trusted-server.toml', 'utf8');
    await writeFile(
      settingsFile,
      `${base}\n[deployments.staging]\nconfig_store = "jwks_store_staging"\nconfig_store_id = "set-by-local-edge"\nsecret_store = "signing_keys_staging"\nsecret_store_id = "set-by-local-edge"\n`,
    );
    edge = await startTestEdge({ settingsPath: settingsFile });
    const pub = (path: string, headers: Record<string, string> = {}) =>
      edge!.call(path, { auth: false, headers });

    // Nothing prepared in staging yet: an empty JWKS, not someone else's keys.
    const empty = await pub('/.well-known/deployments/staging/jwks.json');
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ keys: [] });

    const prepared = await send('/admin/deployments/staging/keysets', {
      json: { kid: 'staging-1' },
    });
    expect(prepared.status).toBe(201);
    const jwks = await pub('/.well-known/deployments/staging/jwks.json');
    expect(jwks.status).toBe(200);
    expect(
      ((await jwks.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid),
    ).toEqual(['staging-1']);
    expect(jwks.headers.get('etag')).toBe('"1"');
    expect(jwks.headers.get('cache-control')).toBe(
      (await pub('/.well-known/jwks.json')).headers.get('cache-control'),
    );
    expect(jwks.headers.get('access-control-allow-origin')).toBe('*');
    const again = await pub('/.well-known/deployments/staging/jwks.json', {
      'if-none-match': '"1"',
    });
    expect(again.status).toBe(304);
    const disc = await pub('/.well-known/deployments/staging/trusted-server.json');
    expect(await disc.json()).toMatchObject({
      version: '1.0',
      keyring_version: 1,
      tainted_kids: [],
      jwks: { keys: [expect.objectContaining({ kid: 'staging-1' })] },
    });
    const head = await edge!.call('/.well-known/deployments/staging/trusted-server.json', {
      auth: false,
      method: 'HEAD',
    });
    expect([head.status, await head.text()]).toEqual([200, '']);

    // default: Trusted Server's paths and the deployment paths serve the same bytes.
    for (const [ts, named] of [
      ['/.well-known/jwks.json', '/.well-known/deployments/default/jwks.json'],
      ['/.well-known/trusted-server.json', '/.well-known/deployments/default/trusted-server.json'],
    ] as const) {
      expect(await (await pub(named)).text()).toBe(await (await pub(ts)).text());
    }
    const defaultKids = (
      (await (await pub('/.well-known/jwks.json')).json()) as {
        keys: Array<{ kid: string }>;
      }
    ).keys.map((k) => k.kid);
    expect(defaultKids).toEqual([DEV_KID]);

    // An undeclared deployment is 404, and so is a non-canonical spelling of a declared one.
    const unknown = await pub('/.well-known/deployments/nope/jwks.json');
    expect(unknown.status).toBe(404);
    const odd = await pub('/.well-known/deployments/%73taging/jwks.json');
    expect(odd.status).toBe(400);
  });
});
