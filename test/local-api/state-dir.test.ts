// The local edge over a state folder: a first start on an empty or absent folder seeds the
// development key; a folder whose state file went missing is refused instead of reseeded.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';

const DEV_KID = 'ts-2025-10-A';
let edge: TestEdge | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('local edge: the state folder', () => {
  it('seeds the development key on a first start in an absent folder', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'tsk-state-'));
    dirs.push(parent);
    edge = await startTestEdge({ stateDir: join(parent, 'absent') });
    const res = await edge.call('/.well-known/jwks.json', { auth: false });
    const keys = ((await res.json()) as { keys: Array<{ kid: string }> }).keys;
    expect(keys.map((k) => k.kid)).toEqual([DEV_KID]);
  });

  it('refuses to start when the state file is gone but the admin token of an earlier run is not', async () => {
    edge = await startTestEdge();
    const dir = edge.stateDir;
    dirs.push(dir);
    await edge.stop(true);
    edge = undefined;
    await rm(join(dir, 'local-api-state.json'));
    await expect(startTestEdge({ stateDir: dir })).rejects.toThrow(
      /local-api-state\.json is missing, but .* holds admin-token, fastly-api-token from an earlier run; .*Restore local-api-state\.json .*or remove the folder/,
    );
    // Nothing was reseeded: the folder holds only what the earlier run left.
    expect(existsSync(join(dir, 'local-api-state.json'))).toBe(false);
    expect((await readdir(dir)).sort()).toEqual(['admin-token', 'fastly-api-token']);
  });
});
