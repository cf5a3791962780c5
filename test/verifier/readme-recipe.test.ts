// The README's curl + openssl recipe for partners, run exactly as written (extracted from the
// README) against a real local edge, so the documented commands cannot rot.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { readmeBlock } from '../support/readme.js';

const run = promisify(execFile);
const BASE = '/admin/deployments/default/keysets';

/** The recipe needs these on the machine; without them the test is reported as skipped. */
const hasTools = ['curl', 'jq', 'openssl'].every((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

const recipe = () => readmeBlock('## For partners', { after: 'Without a dependency' });

let edge: TestEdge | undefined;
let dir: string | undefined;
afterEach(async () => {
  await edge?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  edge = undefined;
  dir = undefined;
});

describe('the README recipe for partners without a dependency', () => {
  it.skipIf(!hasTools)(
    'verifies a signature from the edge, refuses a tampered one, flags a taint',
    async () => {
      const script = await recipe();
      const e = (edge = await startTestEdge());
      const work = (dir = await mkdtemp(join(tmpdir(), 'tsk-recipe-')));
      const sign = async () =>
        (await (await e.call('/admin/keys/sign', { json: { id: 'req-42' } })).json()) as {
          payload: string;
          signature: string;
          kid: string;
        };
      const sh = async (payload: string, signature: string) => {
        try {
          const { stdout } = await run('sh', ['-c', script], {
            cwd: work,
            env: { ...process.env, PUB: e.edgeUrl, PAYLOAD: payload, SIG: signature },
          });
          return { code: 0, stdout };
        } catch (err) {
          const failed = err as { code: number; stdout: string };
          return { code: failed.code, stdout: failed.stdout };
        }
      };

      const a = await sign();
      expect(await sh(a.payload, a.signature)).toEqual({
        code: 0,
        stdout: 'Signature Verified Successfully\n',
      });
      const tampered = a.payload.replace('req-42', 'req-43');
      expect(await sh(tampered, a.signature)).toEqual({
        code: 1,
        stdout: 'Signature Verification Failure\n',
      });

      // Rotate through prepare/activate, then taint the old key: the recipe says so.
      const prepared = (await (await e.call(BASE, { json: {} })).json()) as {
        keyset: { id: string };
      };
      expect(
        // The dwell is forced: the edge's clock cannot be moved past it from here.
        (await e.call(`${BASE}/${prepared.keyset.id}/activate`, { json: { force: true } })).status,
      ).toBe(200);
      const tainted = await e.call(`${BASE}/${a.kid}/taint`, { method: 'POST' });
      expect(tainted.status).toBe(200);
      // The recipe names the cutoff the discovery document publishes for the tainted kid.
      const cutoff = ((await tainted.json()) as { keyset: { taint_cutoff: string } }).keyset
        .taint_cutoff;
      expect(cutoff).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(await sh(a.payload, a.signature)).toEqual({
        code: 0,
        stdout: `${a.kid} is tainted: accept only a ts before ${cutoff}\nSignature Verified Successfully\n`,
      });
    },
  );
});
