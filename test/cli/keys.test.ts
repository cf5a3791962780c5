// Trusted Server's key routes (rotate, deactivate, the published kids) and the public routes
// (JWKS, verify) through tsctl, against a real local edge.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { DEV_KID, edgeEnv, tsctl } from './harness.js';

let edge: TestEdge;
afterEach(async () => {
  await edge?.stop();
});

describe('tsctl keys', () => {
  it('rotates, lists the current and published kids, then deactivates and deletes the old key', async () => {
    edge = await startTestEdge();
    const env = edgeEnv(edge);
    const rotated = await tsctl(['keys', 'rotate'], { env });
    expect(rotated.code, `tsctl said: ${rotated.stderr}${rotated.stdout}`).toBe(0);
    // Trusted Server's meaning is kept, with the reason to prefer prepare → wait → activate.
    expect(rotated.stderr).toMatch(
      /^tsctl: warning: keys rotate publishes the new key and signs with it at once: .*tsctl keyset prepare, wait the activation dwell/,
    );
    const match = /^Key rotated: (ts-\d{4}-\d\d-\d\d) \(previous ts-2025-10-A\)\.\n$/.exec(
      rotated.stdout,
    );
    const next = match?.[1] ?? '';
    expect(next).not.toBe('');

    const listed = await tsctl(['keys', 'list'], { env });
    expect(listed.stdout).toBe(`Current kid:     ${next}\nPublished kids:  ${DEV_KID}, ${next}\n`);
    const json = await tsctl(['keys', 'list', '-o', 'json'], { env });
    expect(JSON.parse(json.stdout)).toEqual({ current_kid: next, active_kids: [DEV_KID, next] });

    const deactivated = await tsctl(['keys', 'deactivate', DEV_KID], { env });
    expect(deactivated).toEqual({
      code: 0,
      stdout: `Key ${DEV_KID} deactivated. Published: ${next}.\n`,
      stderr: '',
    });
    const deleted = await tsctl(['keys', 'deactivate', DEV_KID, '--delete', '-o', 'json'], { env });
    expect(JSON.parse(deleted.stdout)).toMatchObject({
      success: true,
      deactivated_kid: DEV_KID,
      deleted: true,
      remaining_active_kids: [next],
    });
  });

  it('rotates to a chosen kid and prints Trusted Server’s answer verbatim with -o json', async () => {
    edge = await startTestEdge();
    const out = await tsctl(['keys', 'rotate', '--kid', 'partner-2026-q4', '-o', 'json'], {
      env: edgeEnv(edge),
    });
    expect(JSON.parse(out.stdout)).toMatchObject({
      success: true,
      new_kid: 'partner-2026-q4',
      previous_kid: DEV_KID,
      active_kids: [DEV_KID, 'partner-2026-q4'],
    });
  });

  it('refuses to deactivate the signing key with the server’s code (exit 1)', async () => {
    edge = await startTestEdge();
    const out = await tsctl(['keys', 'deactivate', DEV_KID], { env: edgeEnv(edge) });
    expect(out).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tsctl: invalid_transition: cannot deactivate active key set\n',
    });
  });
});

describe('tsctl jwks and verify (public routes)', () => {
  it('prints the published JWKS: indented for people, byte for byte with -o json', async () => {
    edge = await startTestEdge();
    const served = await (await edge.call('/.well-known/jwks.json', { auth: false })).text();
    const env = { TSCTL_ENDPOINT: edge.edgeUrl };
    const pretty = await tsctl(['jwks'], { env });
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toBe(`${JSON.stringify(JSON.parse(served), null, 2)}\n`);
    expect(await tsctl(['jwks', '-o', 'json'], { env })).toEqual({
      code: 0,
      stdout: `${served}\n`,
      stderr: '',
    });
  });

  it('exits 0 for a signature made by the edge and 1 for a tampered payload', async () => {
    edge = await startTestEdge();
    const signed = (await (await edge.call('/admin/keys/sign', { json: { id: 'x' } })).json()) as {
      payload: string;
      signature: string;
      kid: string;
    };
    const env = { TSCTL_ENDPOINT: edge.edgeUrl };
    const args = ['verify', '--kid', signed.kid, `--signature=${signed.signature}`];
    const ok = await tsctl([...args, '--payload', signed.payload], { env });
    expect(ok).toEqual({
      code: 0,
      stdout: `Verified: the signature matches key ${signed.kid}.\n`,
      stderr: '',
    });
    const bad = await tsctl([...args, '--payload', signed.payload.replace('"x"', '"y"')], { env });
    expect(bad).toEqual({
      code: 1,
      stdout: `Not verified: Invalid signature (key ${signed.kid}).\n`,
      stderr: '',
    });
    const json = await tsctl([...args, '--payload', signed.payload, '-o', 'json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ verified: true, kid: signed.kid });
    // The partner's check, here, against the JWKS the edge really serves. This deployment has
    // no key log yet (nothing was prepared), so the chain check refuses until it is skipped.
    expect(await tsctl([...args, '--local', '--payload', signed.payload], { env })).toEqual({
      code: 1,
      stdout: `Not verified: the publisher publishes no key log (add --skip-key-log for Trusted Server alone) (key_log_unavailable, key ${signed.kid}).\n`,
      stderr: '',
    });
    const local = [...args, '--local', '--skip-key-log', '--payload', signed.payload];
    expect(await tsctl(local, { env })).toEqual({
      code: 0,
      stdout: `Verified here against the published JWKS: the signature matches key ${signed.kid}.\n`,
      stderr: '',
    });
    const badLocal = await tsctl([...args, '--local', '--payload', `${signed.payload} `], { env });
    expect(badLocal.code).toBe(1);
    const unknown = await tsctl(
      ['verify', '--kid', 'nope-1', '--payload', 'p', `--signature=${signed.signature}`],
      { env },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^tsctl: keyset_not_found: /);
  });
});
