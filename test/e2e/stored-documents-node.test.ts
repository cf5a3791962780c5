// The Node edge answers the key documents from the stored item without the app's Fetch objects
// (src/platform/node/edge-server.ts); these pin that it answers exactly as the app does (status,
// body, ETag, caching and CORS headers, 304, HEAD), and that it leaves the answer to the app
// whenever the stored document cannot be used.
import { afterEach, describe, expect, it } from 'vitest';
import type { Keyring } from '../../src/core/keyring/document.js';
import { DOCUMENT_ITEM_KEYS } from '../../src/core/keyring/key-documents.js';
import { derivedItems } from '../../src/core/keyring/store-items.js';
import { handle } from '../../src/http/app.js';
import { STORE_NAMES } from '../../src/http/services.js';
import { startEdgeServer, type EdgeServer } from '../../src/platform/node/edge-server.js';
import { DEV_KEY, memoryServices } from '../support/app.js';

const AT = '2026-11-22T09:00:00.000Z';
const KEYRING: Keyring = {
  schema: 1,
  deployment: 'default',
  version: 4,
  updated_at: AT,
  keysets: [
    { id: DEV_KEY.kid, state: 'ACTIVE', jwk: { ...DEV_KEY.jwk }, issued_at: AT, expires_at: AT },
    {
      id: 'spare',
      state: 'TAINTED',
      jwk: { ...DEV_KEY.jwk, kid: 'spare' },
      issued_at: AT,
      expires_at: AT,
    },
  ],
};

let server: EdgeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The edge over stores holding what a commit of KEYRING writes, recording config keys read. */
async function edge() {
  const services = memoryServices({
    config: { [STORE_NAMES.jwks]: Object.fromEntries(derivedItems(KEYRING)) },
  });
  const reads: string[] = [];
  const configStore = services.configStore.bind(services);
  services.configStore = (name) => {
    const store = configStore(name);
    return { get: (key) => (reads.push(key), store.get(key)) };
  };
  server = await startEdgeServer(services, '127.0.0.1', 0);
  return { url: server.url, services, reads, items: services.config.get(STORE_NAMES.jwks)! };
}

/** What a client can observe of an answer, framing headers aside. */
async function observed(res: Response) {
  return {
    status: res.status,
    body: await res.text(),
    headers: ['etag', 'cache-control', 'content-type', 'access-control-allow-origin'].map((h) =>
      res.headers.get(h),
    ),
  };
}

describe('Node edge: stored key documents', () => {
  for (const path of ['/.well-known/jwks.json', '/.well-known/trusted-server.json']) {
    it(`${path}: answers as the app does, from two config reads`, async () => {
      const { url, services, reads } = await edge();
      for (const init of [
        {},
        { headers: { 'if-none-match': '"4"' } },
        { headers: { 'if-none-match': 'W/"4", "9"' } },
        { headers: { 'if-none-match': '"9"' } },
        { headers: { 'if-none-match': '*' } },
        { method: 'HEAD' },
      ] as RequestInit[]) {
        reads.length = 0;
        const served = await observed(await fetch(`${url}${path}`, init));
        expect(reads).not.toContain('keyring');
        expect(reads).toHaveLength(2);
        const app = await observed(
          await handle(new Request(`http://localhost${path}`, init), services),
        );
        expect(served).toEqual(app);
      }
    });
  }

  it('sends a 200 with its Content-Length (not chunked) and a 304 without a body', async () => {
    const { url } = await edge();
    const ok = await fetch(`${url}/.well-known/jwks.json`);
    const body = await ok.text();
    expect(ok.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(ok.headers.get('transfer-encoding')).toBeNull();
    const etag = ok.headers.get('etag') ?? '';
    const notModified = await fetch(`${url}/.well-known/jwks.json`, {
      headers: { 'if-none-match': etag },
    });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe('');
  });

  it('leaves the answer to the app when active-kids disagrees, and when the item is missing', async () => {
    const { url, reads, items } = await edge();
    const published = items.get('active-kids') ?? '';
    items.set('active-kids', DEV_KEY.kid);
    const res = await fetch(`${url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(reads).toContain('keyring');
    reads.length = 0;
    // Trusted Server's items agree again; only the stored document is missing.
    items.set('active-kids', published);
    items.delete(DOCUMENT_ITEM_KEYS.discovery);
    const doc = (await (await fetch(`${url}/.well-known/trusted-server.json`)).json()) as {
      tainted_kids: string[];
    };
    expect(reads).toContain('keyring');
    expect(doc.tainted_kids).toEqual(['spare']);
  });

  it('answers a query and another method through the app, correctly', async () => {
    const { url } = await edge();
    const plain = await (await fetch(`${url}/.well-known/jwks.json`)).text();
    const query = await fetch(`${url}/.well-known/jwks.json?x=1`);
    expect(query.status).toBe(200);
    expect(await query.text()).toBe(plain);
    const post = await fetch(`${url}/.well-known/jwks.json`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
  });
});
