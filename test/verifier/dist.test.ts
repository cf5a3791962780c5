// The verifier as partners install it: built JavaScript and declarations in dist/verifier, which
// must be current with src/verifier (JavaScript and types both), must be what package.json
// exports, and must load on plain Node with no TypeScript loader.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = `${ROOT}dist/verifier`;
const run = promisify(execFile);

/** Runs the build script's staleness check; answers its exit code and stderr. */
async function check(arg: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [`${ROOT}scripts/build-verifier.mjs`, arg]);
    return { code: 0, stderr };
  } catch (err) {
    const failed = err as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('dist/verifier', () => {
  it('is what package.json exports for trusted-server-keys/verifier, types first', async () => {
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
    expect(pkg.exports['./verifier']).toEqual({
      types: './dist/verifier/index.d.ts',
      default: './dist/verifier/index.mjs',
    });
    // Resolution takes the first matching condition: `types` must come before `default`.
    expect(Object.keys(pkg.exports['./verifier'])).toEqual(['types', 'default']);
    expect(pkg.scripts['build:verifier']).toBe('node scripts/build-verifier.mjs');
  });

  it('is what scripts/build-verifier.mjs builds from src/verifier now, JavaScript and types (run it after changing src/verifier)', async () => {
    expect(await check('--check')).toEqual({ code: 0, stderr: '' });
    const dir = await mkdtemp(join(tmpdir(), 'verifier-stale-'));
    try {
      // The check notices a declaration that drifted from the source...
      await cp(DIST, dir, { recursive: true });
      const dts = join(dir, 'index.d.ts');
      const types = await readFile(dts, 'utf8');
      expect(types).toContain("| 'tainted_key'");
      await writeFile(dts, types.replace("| 'tainted_key'", ''));
      let out = await check(`--check=${dir}`);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(
        /is stale \(index\.d\.ts\): run `node scripts\/build-verifier\.mjs`/,
      );
      // ...JavaScript edited by hand, and a file the build would not write.
      await cp(DIST, dir, { recursive: true });
      await writeFile(join(dir, 'index.mjs'), `${await readFile(`${DIST}/index.mjs`, 'utf8')}//\n`);
      await writeFile(join(dir, 'old.d.ts'), 'export {};\n');
      out = await check(`--check=${dir}`);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/is stale \(index\.mjs, old\.d\.ts\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('imports only jose and @noble/ed25519 (dependencies), nothing of node:* or the service', async () => {
    const text = await readFile(`${DIST}/index.mjs`, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']/gm),
      ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
      ...text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g),
    ].map((m) => m[1]);
    expect([...new Set(specifiers)].sort()).toEqual(['@noble/ed25519', 'jose']);
    const pkg = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8'));
    expect(Object.keys(pkg.dependencies)).toEqual(
      expect.arrayContaining(['@noble/ed25519', 'jose']),
    );
  });

  it("loads by package name on plain node (no loader) and verifies Trusted Server's pinned vector", async () => {
    // A partner's project: its own folder, the package in node_modules (a link, as `npm link` or
    // a file: dependency makes it), only PATH in the environment (so no NODE_OPTIONS loader).
    const dir = await mkdtemp(join(tmpdir(), 'verifier-partner-'));
    try {
      await mkdir(join(dir, 'node_modules'));
      await symlink(ROOT, join(dir, 'node_modules', 'trusted-server-keys'), 'dir');
      const script = `
        const vector = {
          payload: '{"version":"1.1","kid":"ts-2025-10-A","host":"publisher.example","scheme":"https","id":"req-1","ts":1763800000000}',
          signature: 'k0ohGlOVv9H9VZBikwUwlRPsgR-sG3pq19qLxXp5hLpG0X8xn5tQwSEELiRepu4r7BZ0Zv3EnwnM--1KSujCBg',
        };
        const jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: 'ts-2025-10-A',
          x: 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw' }] };
        import('trusted-server-keys/verifier').then(async ({ createVerifier }) => {
          const options = {
            jwksUrl: 'https://publisher.example/.well-known/jwks.json',
            host: 'publisher.example',
            now: () => 1763800000000,
            fetch: async () => new Response(JSON.stringify(jwks), {
              headers: { 'content-type': 'application/json' } }),
            keyLog: false,
          };
          const verifier = createVerifier(options);
          const ok = await verifier.verify(vector);
          const bad = await verifier.verify({ ...vector, payload: vector.payload.replace('req-1', 'req-2') });
          process.stdout.write(JSON.stringify({ ok: [ok.verified, ok.kid], bad: [bad.verified, bad.reason] }));
        });
      `;
      const { stdout, stderr } = await run(process.execPath, ['-e', script], {
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '' },
      });
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({
        ok: [true, 'ts-2025-10-A'],
        bad: [false, 'invalid_signature'],
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
