// The Fastly build's warm-up (src/http/warm-up.ts) runs the hot paths at build time, and the
// snapshot it leaves is where every request starts. So it must run every path it claims to
// (a silent shortcut would only show as a slow engine), use public material only, and leave no
// state a request could see: these tests run it in Node and check what it leaves.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../src/core/crypto/ed25519.js';
import { checkedKeyLogCount } from '../../src/core/keyring/key-log.js';
import { parseSettings } from '../../src/core/settings.js';
import { WARM_UP_DONE, WARM_UP_FAILED, WARM_UP_SEED_HEX, warmUp } from '../../src/http/warm-up.js';
import { memoryServices, testApp, withDevKey } from '../support/app.js';

const settings = parseSettings({});

describe('build-time warm-up', () => {
  it('runs routing, the stored documents (200 and 304), the admin gate, sign and verify', async () => {
    const report = await warmUp(settings);
    expect(report).toEqual({
      routed: [
        'GET /.well-known/jwks.json',
        'GET /.well-known/trusted-server.json',
        'POST /admin/keys/sign',
        'POST /verify-signature',
      ],
      documents: ['jwks 200', 'jwks 304', 'discovery 200', 'discovery 304'],
      verified: true,
      audited: 1,
    });
  });

  it('leaves the settings it is given as they were', async () => {
    const before = structuredClone(settings);
    await warmUp(settings);
    expect(settings).toEqual(before);
  });

  it('leaves no checked key log in the module-level cache', async () => {
    expect(checkedKeyLogCount()).toBe(0);
    await warmUp(settings);
    expect(checkedKeyLogCount()).toBe(0);
  });

  it('uses RFC 8032 TEST 1, the published vector, and no key of this repository', async () => {
    const seed = Uint8Array.from(Buffer.from(WARM_UP_SEED_HEX, 'hex'));
    expect(Buffer.from(await publicKeyOf(seed)).toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    const toml = readFileSync('fastly.toml', 'utf8');
    for (const [, data] of toml.matchAll(/data = "([A-Za-z0-9+/=_-]{16,})"/g)) {
      const bytes = Buffer.from(data ?? '', 'base64');
      expect(bytes.toString('hex')).not.toBe(WARM_UP_SEED_HEX);
    }
  });

  it('reaches no service of the app: a request after it is counted and audited alone', async () => {
    // The warm-up takes only the settings and builds its own stores, limiter and sink.
    const services = memoryServices(withDevKey());
    await warmUp(services.settings);
    const app = testApp(services);
    const res = await app.request('/admin/keys/sign', {
      json: { id: 'x' },
      token: 'nope.xxxxxxxxxxxxxxxx',
    });
    expect(res.status).toBe(401);
    expect(services.audits).toHaveLength(1);
    expect(services.audits[0]).toMatchObject({ actor: 'nope', status: 401 });
    expect(await services.rateLimiter.increment('auth_failures', 'ip:192.0.2.1')).toBe(2);
  });

  it('names the lines the build script reads (failed: refused; done: required)', () => {
    const script = readFileSync('scripts/build-wasm.mjs', 'utf8');
    expect(script).toContain(`const WARM_UP_FAILED = '${WARM_UP_FAILED}';`);
    expect(script).toContain(`const WARM_UP_DONE = '${WARM_UP_DONE}';`);
  });
});

/**
 * Every module-level binding that can change, in the code the Fastly bundle holds. A new one
 * fails this test until it is listed here with what the warm-up does to it (and, when it can
 * hold a request's data, a test above that the warm-up leaves it empty).
 */
const MODULE_STATE: Record<string, string> = {
  'src/core/crypto/base-point.ts table':
    'built on purpose at top level: multiples of the base point, public constants',
  'src/core/keyring/key-log.ts CHECKED': 'key-log check cache: left empty (tested above)',
};

function edgeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return edgeFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('module-level state of the edge code', () => {
  it('is only what is listed, with what the warm-up does to it', () => {
    const found: string[] = [];
    const declaration =
      /^(?:export )?(?:let|var) (\w+)|^(?:export )?const (\w+)(?::[^=]+)? = (?:new (?:Map|Set|WeakMap|WeakSet|Array)\b|\[\])/;
    for (const dir of ['src/core', 'src/http', 'src/platform/fastly', 'src/fastly-api']) {
      for (const file of edgeFiles(dir)) {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          const m = declaration.exec(line);
          if (!m) continue;
          // A ReadonlySet or ReadonlyMap is typed so nothing can add to it.
          if (/: Readonly(Set|Map)</.test(line)) continue;
          found.push(`${file.replaceAll('\\', '/')} ${m[1] ?? m[2]}`);
        }
      }
    }
    expect(found.filter((f) => !(f in MODULE_STATE))).toEqual([]);
    expect(Object.keys(MODULE_STATE).filter((k) => !found.includes(k))).toEqual([]);
  });
});
