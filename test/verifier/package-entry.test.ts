// The verifier as partners import it: through the package's `exports` entry, by name.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createVerifier } from 'trusted-server-keys/verifier';
import { DEV, HOST, publisher, signed } from './support.js';

describe('trusted-server-keys/verifier', () => {
  it('resolves by package name to the verifier, and README usage works as written', async () => {
    const pub = publisher([DEV]);
    const verifier = createVerifier({
      discoveryUrl: 'https://publisher.example/.well-known/trusted-server.json',
      host: HOST,
      fetch: pub.fetch,
      // This publisher serves no key log (a publisher running Trusted Server alone).
      keyLog: false,
    });
    const { payload, signature } = signed(DEV, Date.now());
    const result = await verifier.verify({ payload, signature });
    expect(result).toMatchObject({ verified: true, kid: DEV.kid });
  });

  it('imports nothing but jose, @noble and its own files (no node:*, nothing of the service)', async () => {
    const dir = new URL('../../src/verifier/', import.meta.url);
    const files = [
      'index.ts',
      'base64.ts',
      'payload.ts',
      'keys.ts',
      'cache-control.ts',
      'key-source.ts',
      'key-log.ts',
    ];
    const specifiers: string[] = [];
    for (const f of files) {
      const text = await readFile(new URL(f, dir), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm))
        specifiers.push(m[1] ?? '');
    }
    const outside = specifiers.filter(
      (s) => !/^\.\/[a-z0-9-]+\.js$/.test(s) && s !== 'jose' && s !== '@noble/ed25519',
    );
    expect(specifiers.length).toBeGreaterThan(5);
    expect(outside).toEqual([]);
  });
});
