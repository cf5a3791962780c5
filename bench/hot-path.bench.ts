// The hot path, measured in-process through `handle()`: the key documents served from the
// keyring item (one config read) against Trusted Server's items (current-kid, active-kids and one
// read per kid), and verify / sign. Cases in one describe run side by side, so their ratio holds
// on a noisy shared machine even when absolute numbers do not.
import { bench, describe } from 'vitest';
import { publicKeyOf } from '../src/core/crypto/ed25519.js';
import { encodeSeed } from '../src/core/keys/seed-encoding.js';
import { publicJwk } from '../src/core/keys/jwk.js';
import type { Keyring } from '../src/core/keyring/document.js';
import { MemoryRateLimiter } from '../src/core/rate-limit/memory-rate-limiter.js';
import { parseSettings } from '../src/core/settings.js';
import { handle } from '../src/http/app.js';
import type { Services } from '../src/http/services.js';

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

function services(items: Map<string, string>, secrets: Map<string, string>): Services {
  // No admin route is measured: the admin token store stays empty.
  const adminSecrets = new Map<string, string>();
  return {
    settings: parseSettings({
      publisher: { domain: 'publisher.example' },
      request_signing: { config_store_id: 'c', secret_store_id: 's' },
      admin: { requests_per_minute: 1e5, auth_failures_per_minute: 1000 },
    }),
    clock,
    random: { bytes: (n) => new Uint8Array(n).fill(7) },
    configStore: () => ({ get: async (key) => items.get(key) ?? null }),
    secretStore: (name) => ({
      get: async (key) => (name === 'signing_keys' ? secrets : adminSecrets).get(key) ?? null,
    }),
    managementFetch: () => Promise.reject(new Error('no management API in the benchmark')),
    logger: { log: () => undefined },
    rateLimiter: new MemoryRateLimiter(clock),
    audit: { write: async () => undefined },
  };
}

const withKeyring = await storeItems(true);
const tsOnly = await storeItems(false);
const fast = services(withKeyring.items, withKeyring.secrets);
const legacy = services(tsOnly.items, tsOnly.secrets);
const discovery = 'https://keys.example/.well-known/trusted-server.json';

async function drain(response: Promise<Response>): Promise<void> {
  const res = await response;
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  await res.arrayBuffer();
}

describe(`discovery document, ${KEYS} published keys`, () => {
  bench('from the keyring item (1 config read)', async () => {
    await drain(handle(new Request(discovery), fast));
  });
  bench(`from Trusted Server's items (${KEYS + 2} config reads)`, async () => {
    await drain(handle(new Request(discovery), legacy));
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
      handle(
        new Request('https://keys.example/verify-signature', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: verifyBody,
        }),
        fast,
      ),
    );
  });
  bench('GET /.well-known/jwks.json', async () => {
    await drain(handle(new Request('https://keys.example/.well-known/jwks.json'), fast));
  });
});
