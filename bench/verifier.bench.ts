// The partner verifier's cost per verification once its keys are cached, with the key log's chain
// check on (the default) and off, side by side in one run: what following the endorsement chain
// adds to each verification after the first. The log is made by the service's own writer and
// endorses 20 keys one after another (a checkpoint folds the older ones); the payloads are signed
// by node:crypto.
import { bench, describe } from 'vitest';
import { appendEndorsement, serializeKeyLog, startKeyLog } from '../src/core/keyring/key-log.js';
import { createVerifier } from '../src/verifier/index.js';
import { DEV, HOST, newKey, publicJwk, signed, type TestKey } from '../test/verifier/support.js';

const DISCOVERY = 'https://publisher.example/.well-known/trusted-server.json';
const LOG_URL = 'https://publisher.example/.well-known/trusted-server-key-log.json';
const AT = '2026-11-22T09:00:00.000Z';
const NOW = Date.parse(AT);

const seedOf = (k: TestKey): Uint8Array => new Uint8Array(Buffer.from(k.d, 'base64url'));

const keys = Array.from({ length: 20 }, (_, i) => newKey(`k-${String(i)}`));
let log = await startKeyLog('default', { kid: DEV.kid, seed: seedOf(DEV) }, AT);
let previous = DEV;
for (const k of keys) {
  log = await appendEndorsement(
    log,
    { kid: k.kid, x: k.x },
    { kid: previous.kid, seed: seedOf(previous) },
    AT,
    new Set(),
  );
  previous = k;
}
const logText = serializeKeyLog(log);
const last = keys[keys.length - 1] ?? DEV;
const discovery = JSON.stringify({
  version: '1.0',
  jwks: { keys: [DEV, ...keys].map(publicJwk) },
  tainted_kids: [],
});

async function fetchFake(url: string): Promise<Response> {
  if (url === LOG_URL) return new Response(logText);
  return new Response(discovery, { headers: { 'cache-control': 'max-age=3600' } });
}

const options = { discoveryUrl: DISCOVERY, host: HOST, fetch: fetchFake, now: () => NOW };
const withChain = createVerifier({ ...options, keyLog: { rootFingerprint: log.root_fingerprint } });
const withoutChain = createVerifier({ ...options, keyLog: false });
const input = signed(last, NOW - 1000);

// The first verification of each fetches and checks; the benches measure every one after it.
for (const v of [withChain, withoutChain]) {
  const first = await v.verify(input);
  if (!first.verified) throw new Error(`bench set-up: ${JSON.stringify(first)}`);
}

describe('partner verifier, per verification after the first (20 endorsed keys)', () => {
  bench('key log chain checked (default, root pinned)', async () => {
    const r = await withChain.verify(input);
    if (!r.verified) throw new Error(r.reason);
  });
  bench('key log off (keyLog: false)', async () => {
    const r = await withoutChain.verify(input);
    if (!r.verified) throw new Error(r.reason);
  });
});
