// Signing as an attacker (or an honest signer) holding a key's seed would, at a chosen `ts`, with
// Node's own Ed25519 (an implementation independent of the service's): for the taint cutoff's
// tests (docs/taint-cutoff.md).
import { createPrivateKey, sign } from 'node:crypto';

/** PKCS #8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Trusted Server's v1.1 payload text, compact, its members in its order. */
export function v11Payload(kid: string, host: string, id: string, ts: number): string {
  return JSON.stringify({ version: '1.1', kid, host, scheme: 'https', id, ts });
}

/** Signs `payload` with a seed given as padded standard base64; unpadded base64url out. */
export function signWithSeed(storedSeed: string, payload: string): string {
  const seed = Buffer.from(storedSeed, 'base64');
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  return sign(null, Buffer.from(payload, 'utf8'), key).toString('base64url');
}

/** A signed v1.1 payload by `kid` at `ts`, as `/verify-signature` takes it. */
export function signedAt(
  key: { kid: string; storedSeed: string },
  ts: number,
  host = 'publisher.example',
  id = `r-${ts}`,
): { payload: string; signature: string; kid: string } {
  const payload = v11Payload(key.kid, host, id, ts);
  return { payload, signature: signWithSeed(key.storedSeed, payload), kid: key.kid };
}
