// The compromise runbook's commands through tsctl against a real local edge: rotate, taint the
// leaked key (tsctl says its cutoff), then `tsctl verify` at the edge and `--local` refuse a
// forgery dated after the cutoff and verify the honest request signed before the taint.
import { afterEach, describe, expect, it } from 'vitest';
import { DEV_KEY } from '../support/app.js';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { signedAt } from '../support/taint.js';
import { DEV_KID, edgeEnv, tsctl } from './harness.js';

let edge: TestEdge | undefined;
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

describe('tsctl verify and a tainted key', () => {
  it('refuses a forgery after the cutoff and verifies the honest request, at the edge and --local', async () => {
    edge = await startTestEdge();
    const env = edgeEnv(edge);
    const honest = (await (await edge.call('/admin/keys/sign', { json: { id: 'h' } })).json()) as {
      payload: string;
      signature: string;
      kid: string;
    };
    expect((await tsctl(['keys', 'rotate'], { env })).code).toBe(0);
    const tainted = await tsctl(['keyset', 'taint', DEV_KID], { env });
    const cutoff = /before (\S+) \(its taint cutoff\)/.exec(tainted.stdout)?.[1] ?? '';
    expect(Date.parse(cutoff)).toBeGreaterThan(Date.now());

    const forged = signedAt(DEV_KEY, Date.parse(cutoff) + 1000, edge.settings.publisher.domain);
    const args = (s: { payload: string; signature: string }) => [
      'verify',
      '--kid',
      DEV_KID,
      '--payload',
      s.payload,
      `--signature=${s.signature}`,
    ];
    const refusal = `signed_after_taint_cutoff: key ${DEV_KID} is tainted: the payload's ts ${new Date(Date.parse(cutoff) + 1000).toISOString()} is not before its taint cutoff ${cutoff} (key ${DEV_KID}).\n`;
    expect(await tsctl(args(forged), { env })).toEqual({
      code: 1,
      stdout: `Not verified: ${refusal}`,
      stderr: '',
    });
    expect(await tsctl([...args(forged), '--local'], { env })).toEqual({
      code: 1,
      stdout: `Not verified: ${refusal}`,
      stderr: '',
    });
    expect((await tsctl(args(honest), { env })).code).toBe(0);
    expect((await tsctl([...args(honest), '--local'], { env })).code).toBe(0);
    // A payload that is not v1.1 JSON cannot be dated: a tainted key does not vouch for it.
    const bare = await tsctl(args({ payload: 'hello', signature: forged.signature }), { env });
    expect(bare.code).toBe(1);
    expect(bare.stdout).toMatch(/^Not verified: tainted_key_payload_without_ts: key /);
  });
});
