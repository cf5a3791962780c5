// Trusted Server's key-rotation script, as the README gives it (credentials imported with
// `tsctl token import`, then the guide's rotate-keys.sh with only the origin and `-u` added), run
// by bash and curl against a real local edge: both blocks are extracted from the README.
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestEdge, type TestEdge } from '../support/local-edge.js';
import { readmeBlock } from '../support/readme.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HEADING = "### Trusted Server's scripts (HTTP Basic, curl's defaults)";

/** The script needs bash, curl and GNU date; without them the test is reported as skipped. */
const hasTools = (() => {
  try {
    execFileSync('bash', ['-c', "command -v curl >/dev/null && date -d '90 days ago' +%F"], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
})();

/** Trusted Server takes any characters; so does the import, and curl -u carries them. */
const CREDENTIALS = { TS_ADMIN_USER: 'admin', TS_ADMIN_PASSWORD: 'pä:ss word ✓ "q" $HOME 1' };

let edge: TestEdge | undefined;
let dir: string | undefined;
afterEach(async () => {
  await edge?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  edge = undefined;
  dir = undefined;
});

/** The JSON documents curl printed one after another, without separators. */
function jsonDocuments(text: string): Array<Record<string, unknown>> {
  const docs: Array<Record<string, unknown>> = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' && --depth === 0) {
      docs.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
    }
  }
  return docs;
}

describe("the README's run of Trusted Server's rotation script", () => {
  it.skipIf(!hasTools)(
    'imports the Basic credentials, rotates, waits (as asked) and deletes the old key',
    async () => {
      const [importBlock, script] = await Promise.all([
        readmeBlock(HEADING, { lang: 'sh' }),
        readmeBlock(HEADING, { lang: 'bash' }),
      ]);
      const e = (edge = await startTestEdge());
      const work = (dir = await mkdtemp(join(tmpdir(), 'tsk-ts-script-')));
      // `sleep` answers at once but writes down what it was asked: the script's 30 days.
      await writeFile(join(work, 'sleep'), `#!/bin/sh\necho "$@" >> "${work}/slept"\n`);
      await chmod(join(work, 'sleep'), 0o755);
      const env = {
        ...process.env,
        ...CREDENTIALS,
        TZ: 'UTC',
        TSK_STATE_DIR: e.stateDir,
        TSK_API_PORT: new URL(e.apiUrl).port,
      };

      // The import block, as written, but with the password the test chose.
      const setup = importBlock.replace(/^export .*\n/m, '');
      expect(setup).toContain('npx tsctl token import');
      await run('bash', ['-c', setup], { cwd: ROOT, env });

      // The key the guide's script deletes is the one issued 90 days ago: make it current now.
      const oldKid = execFileSync('date', ['-d', '90 days ago', '+ts-%Y-%m-%d'], { env })
        .toString()
        .trim();
      expect((await e.call('/admin/keys/rotate', { json: { kid: oldKid } })).status).toBe(200);

      const { stdout } = await run('bash', ['-c', script], {
        cwd: work,
        env: { ...env, EDGE: e.edgeUrl, PATH: `${work}:${process.env['PATH'] ?? ''}` },
      });
      const [rotated, deleted] = jsonDocuments(stdout);
      expect(rotated).toMatchObject({
        success: true,
        message: 'Key rotated successfully',
        previous_kid: oldKid,
      });
      const newKid = String(rotated?.['new_kid']);
      expect(deleted).toMatchObject({
        success: true,
        deactivated_kid: oldKid,
        deleted: true,
        remaining_active_kids: expect.arrayContaining([newKid]),
      });
      expect((await readFile(join(work, 'slept'), 'utf8')).trim()).toBe(String(30 * 24 * 60 * 60));

      const jwks = (await (await fetch(`${e.edgeUrl}/.well-known/jwks.json`)).json()) as {
        keys: Array<{ kid: string }>;
      };
      const kids = jwks.keys.map((k) => k.kid);
      expect(kids).toContain(newKid);
      expect(kids).not.toContain(oldKid);
      // Deleted means gone from the secret store as well, not only unpublished.
      const secrets = await e.client.listSecrets(e.stores.signingKeysStoreId);
      expect(secrets.map((s) => s.name)).toContain(newKid);
      expect(secrets.map((s) => s.name)).not.toContain(oldKid);
    },
    60_000,
  );

  it('over real HTTP, tells a page of this origin from one of another by Origin and Host', async () => {
    const e = (edge = await startTestEdge());
    const post = (origin: string) =>
      e.call('/admin/keys/sign', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin },
        body: new TextEncoder().encode('{"id":"req-1"}'),
      });
    // The Node edge builds its URLs on http://localhost; the browser's Host is what counts.
    expect((await post(new URL(e.edgeUrl).origin)).status).toBe(200);
    const refused = await post('https://attacker.example');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('cross_site_request');
  });
});
