// Public keys from a JWKS, and Ed25519 verification over them. jose imports the JWK into
// WebCrypto where the runtime has Ed25519 (Node 20+, Deno, Bun, Workers); where it does not
// (Fastly Compute's crypto.subtle has no Ed25519) the same raw key is checked with @noble/ed25519,
// strictly (RFC 8032 with canonical encodings, not ZIP-215), as WebCrypto does.
import * as ed from '@noble/ed25519';
import { importJWK } from 'jose';
import { fromBase64Url } from './base64.js';
import { MAX_KID_LENGTH } from './payload.js';

/** Which implementation checks signatures: `auto` tries WebCrypto first. */
export type CryptoChoice = 'auto' | 'webcrypto' | 'noble';

/** One published public key, ready to verify with. */
export interface PublicKey {
  kid: string;
  /** The 32 raw bytes of `x`. */
  raw: Uint8Array;
  /** The WebCrypto key when the runtime has Ed25519; null means @noble/ed25519 checks. */
  webcrypto: CryptoKey | null;
}

/** Most keys a document may list; a publisher keeps a handful. */
export const MAX_KEYS = 64;

/**
 * The Ed25519 public keys of a JWKS `keys` array, by kid. A member that is not a well-formed
 * Ed25519 public JWK is skipped (a partner must not fail on a key type it does not use), and so
 * is a JWK carrying a private part (`d`) or a kid listed twice: both are the publisher's mistake,
 * and neither may be guessed around.
 */
export async function importKeys(
  keys: readonly unknown[],
  choice: CryptoChoice,
): Promise<Map<string, PublicKey>> {
  const seen = new Map<string, number>();
  const candidates: Array<{ kid: string; x: string; raw: Uint8Array }> = [];
  for (const jwk of keys.slice(0, MAX_KEYS)) {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) continue;
    const k = jwk as Record<string, unknown>;
    if (typeof k.kid !== 'string' || k.kid.length === 0 || k.kid.length > MAX_KID_LENGTH) continue;
    seen.set(k.kid, (seen.get(k.kid) ?? 0) + 1);
    if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || 'd' in k) continue;
    if (k.alg !== undefined && k.alg !== 'EdDSA' && k.alg !== 'Ed25519') continue;
    if (k.use !== undefined && k.use !== 'sig') continue;
    if (typeof k.x !== 'string') continue;
    const raw = fromBase64Url(k.x);
    if (!raw || raw.length !== 32) continue;
    candidates.push({ kid: k.kid, x: k.x, raw });
  }
  const out = new Map<string, PublicKey>();
  for (const c of candidates) {
    if (seen.get(c.kid) !== 1) continue;
    out.set(c.kid, { kid: c.kid, raw: c.raw, webcrypto: await webcryptoKey(c.x, choice) });
  }
  return out;
}

async function webcryptoKey(x: string, choice: CryptoChoice): Promise<CryptoKey | null> {
  if (choice === 'noble') return null;
  try {
    const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x }, 'EdDSA');
    if (key instanceof Uint8Array) return null;
    return key;
  } catch (err) {
    // The runtime has no Ed25519 in WebCrypto: @noble/ed25519 takes over, unless forbidden.
    if (choice === 'webcrypto') throw err;
    return null;
  }
}

/** Verifies an Ed25519 signature; false (never an exception) for anything that does not verify. */
export async function verifyEd25519(
  key: PublicKey,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (signature.length !== 64) return false;
  if (key.webcrypto) {
    try {
      return await crypto.subtle.verify(
        'Ed25519',
        key.webcrypto,
        signature as Uint8Array<ArrayBuffer>,
        message as Uint8Array<ArrayBuffer>,
      );
    } catch {
      // Imported but not usable (a runtime that half-supports Ed25519): fall through to noble.
    }
  }
  try {
    return await ed.verifyAsync(signature, message, key.raw, { zip215: false });
  } catch {
    return false;
  }
}
