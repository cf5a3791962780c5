// The hot path, measured in-process through `handle()` (the route-test harness,
// test/support/app.ts): the key documents served as stored (two config reads), from the keyring
// item (one config read, parsed) and from Trusted Server's items (current-kid, active-kids and one
// read per kid), and verify / sign. Cases in one describe run side by side, so their ratio holds
// on a noisy shared machine even when absolute numbers do not.
import { bench, describe } from 'vitest';
import { publicKeyOf } from '../src/core/crypto/ed25519.js';
import { encodeSeed } from '../src/core/keys/seed-encoding.js';
import { publicJwk } from '../src/core/keys/jwk.js';
import { parseKeyring, type Keyring } from '../src/core/keyring/document.js';
import { derivedItems } from '../src/core/keyring/store-items.js';
import { STORE_NAMES } from '../src/http/services.js';
import { memoryServices, testApp, type TestApp } from '../test/support/app.js';

const KEYS = 5;
const clock = { now: () => Date.parse('2026-11-22T09:00:00.000Z') };

/** Config items for `KEYS` published keys, with or without the keyring document. */
async function storeItems(
  withKeyring: boolean,
): Promise<{ items: Map<string, string>; secrets: Map<string, string> }> {
  const items = new Map<string, string>();
  const secrets = new Map<string, string>();
  const keyring: Keyring = {
    schema: 1,
    deployment: 'default',
    version: 9,
    updated_at: new Date(clock.now()).toISOString(),
    keysets: [],
  };
  for (let i = 0; i < KEYS; i++) {
    const seed = Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j) & 0xff);
    const kid = `ts-2026-11-${String(10 + i)}`;
    const jwk = publicJwk(kid, await publicKeyOf(seed));
    items.set(kid, JSON.stringify(jwk));
    secrets.set(kid, encodeSeed(seed));
    const state = i === KEYS - 1 ? 'ACTIVE' : 'PREPARED';
    keyring.keysets.push({
      id: kid,
      state,
      jwk,
      issued_at: keyring.updated_at,
      expires_at: keyring.updated_at,
    });
  }
  const ids = keyring.keysets.map((k) => k.id);
  items.set('active-kids', ids.join(','));
  items.set('current-kid', ids[KEYS - 1] ?? '');
  if (withKeyring) items.set('keyring', JSON.stringify(keyring));
  return { items, secrets };
}

/** The app over in-memory stores holding `items` and `secrets`; no admin route is measured. */
function appOver(items: Map<string, string>, secrets: Map<string, string>): TestApp {
  return testApp(
    memoryServices({
      config: { [STORE_NAMES.jwks]: Object.fromEntries(items) },
      secrets: { [STORE_NAMES.signingKeys]: Object.fromEntries(secrets) },
      now: clock.now(),
    }),
  );
}

const withKeyring = await storeItems(true);
const tsOnly = await storeItems(false);
const fast = appOver(withKeyring.items, withKeyring.secrets);
// As a commit through the service leaves the store: the documents rendered and stored beside
// the keyring (derivedItems), so the hot path reads a document and `active-kids` only.
const storedItems = new Map(withKeyring.items);
for (const [key, value] of derivedItems(parseKeyring(withKeyring.items.get('keyring') ?? '')))
  storedItems.set(key, value);
const stored = appOver(storedItems, withKeyring.secrets);
const legacy = appOver(tsOnly.items, tsOnly.secrets);
const discovery = '/.well-known/trusted-server.json';

async function drain(response: Promise<Response>): Promise<void> {
  const res = await response;
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.arrayBuffer();
}

describe(`discovery document, ${KEYS} published keys`, () => {
  bench('stored document (2 config reads, no keyring parse)', async () => {
    await drain(stored.request(discovery));
  });
  bench('from the keyring item (1 config read)', async () => {
    await drain(fast.request(discovery));
  });
  bench(`from Trusted Server's items (${KEYS + 2} config reads)`, async () => {
    await drain(legacy.request(discovery));
  });
});

// A real signature by the ACTIVE key, to verify.
const { signPayload } = await import('../src/core/signing/request-signing.js');
const { decodeSeed } = await import('../src/core/keys/seed-encoding.js');
const activeKid = `ts-2026-11-${String(10 + KEYS - 1)}`;
const payload =
  '{"version":"1.1","kid":"' +
  activeKid +
  '","host":"publisher.example","scheme":"https","id":"r","ts":1}';
const signature = await signPayload(
  decodeSeed(withKeyring.secrets.get(activeKid) ?? '', activeKid),
  payload,
);
const verifyBody = JSON.stringify({ payload, signature, kid: activeKid });

describe('per-request cost of a verification against a key document', () => {
  bench('POST /verify-signature (Ed25519 verify)', async () => {
    await drain(
      fast.request('/verify-signature', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: verifyBody,
      }),
    );
  });
  bench('GET /.well-known/jwks.json', async () => {
    await drain(fast.request('/.well-known/jwks.json'));
  });
});
