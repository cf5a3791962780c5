// tsctl and Trusted Server side by side: `keyset list` shows unusable key sets with their reason
// and the drift Trusted Server's own tools made; `keyset adopt` folds it and says what it folded.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, TEST_TARGET, type TestEdge } from '../support/local-edge.js';
import { TrustedServerTools } from '../support/trusted-server-tools.js';
import { edgeEnv, tsctl } from './harness.js';

let edge: TestEdge;
afterEach(async () => {
  await edge?.stop();
});

// The wasm edge's manifest is this project's fastly.toml; Trusted Server's has no fastly_api backend.
describe.skipIf(TEST_TARGET === 'wasm')('tsctl keyset list and adopt beside Trusted Server', () => {
  it('lists ts-2025-10-B as unusable with its reason, shows drift, and adopts it', async () => {
    edge = await startTestEdge({ fastlyTomlPath: 'test/fixtures/trusted-server/fastly.toml' });
    const env = edgeEnv(edge);
    const listed = await tsctl(['keyset', 'list'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /ts-2025-10-B .+ Deactivated \(unusable: key_material_invalid\)$/m,
    );
    expect(listed.stdout).toMatch(
      /^Unusable ts-2025-10-B: the JWK's x is not an Ed25519 public key/m,
    );

    expect((await tsctl(['keyset', 'prepare', '--kid', 'tsk-1'], { env })).code).toBe(0);
    const ts = new TrustedServerTools({
      apiUrl: edge.apiUrl,
      token: edge.api.token,
      configStoreId: edge.stores.jwksStoreId,
      secretStoreId: edge.stores.signingKeysStoreId,
    });
    await ts.rotate('ts-r1');
    const drifted = await tsctl(['keyset', 'list'], { env });
    expect(drifted.stdout).toMatch(/^Drift: Trusted Server's items disagree with the keyring/m);
    expect(drifted.stdout).toMatch(/^ {2}warning kid_added: ts-r1 is published and signing/m);

    // Trusted Server's rotate is not endorsed in the key log: status says so until adopt KID.
    const unendorsed = await tsctl(['status'], { env });
    expect(unendorsed.stdout).toMatch(/^Unendorsed keys: ts-r1$/m);
    expect(unendorsed.stdout).toMatch(/^WARNING unendorsed_key ts-r1: /m);
    const adopted = await tsctl(['keyset', 'adopt', 'ts-r1'], { env });
    expect(adopted).toMatchObject({ code: 0, stderr: '' });
    expect(adopted.stdout).toMatch(
      /^Adopted \(keyring version 2\):\n {2}ts-r1 is published and signing/,
    );
    expect(adopted.stdout).toMatch(/^ {2}ts-r1 endorsed in the key log$/m);
    expect((await tsctl(['status'], { env })).stdout).not.toMatch(/Unendorsed keys/);
    const twice = await tsctl(['keyset', 'adopt', 'ts-r1', '--kid', 'ts-r1'], { env });
    expect(twice.code).toBe(2);
    const again = await tsctl(['keyset', 'adopt'], { env });
    expect(again.stdout).toBe('Nothing to adopt: the stores agree with the keyring.\n');
    const unknown = await tsctl(['keyset', 'adopt', '--kid', 'nobody'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/keyset_not_found/);
  });
});
