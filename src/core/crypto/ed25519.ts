// Ed25519 with @noble/ed25519, because Fastly's crypto.subtle has no Ed25519. The async calls
// hash with crypto.subtle's SHA-512, which the edge has and which measured faster there than
// the pure-JS hash.
import * as ed from '@noble/ed25519';
import type { Random } from '../ports.js';

/** Length of an Ed25519 seed (the private key as Trusted Server stores it). */
export const SEED_BYTES = 32;
/** Length of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

/** A fresh 32-byte seed from the injected randomness. */
export function generateSeed(random: Random): Uint8Array {
  const seed = random.bytes(SEED_BYTES);
  if (seed.length !== SEED_BYTES) throw new Error('random source returned the wrong length');
  return seed;
}

/** The public key of a seed (RFC 8032 §5.1.5). */
export function publicKeyOf(seed: Uint8Array): Promise<Uint8Array> {
  return ed.getPublicKeyAsync(seed);
}

/** Signs `message` with the seed (RFC 8032 §5.1.6). */
export function sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return ed.signAsync(message, seed);
}

/**
 * Verifies a signature strictly (RFC 8032 §5.1.7 with canonical encodings, not ZIP-215):
 * false for any malformed key or signature rather than an exception.
 */
export async function verify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    return await ed.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Whether 32 bytes are the encoding of a point on Ed25519 (RFC 8032 §5.1.3 decoding). A JWK whose
 * `x` is not one can never verify anything; Trusted Server's own example store ships such a kid.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    ed.Point.fromHex(Array.from(publicKey, (b) => b.toString(16).padStart(2, '0')).join(''));
    return true;
  } catch {
    return false;
  }
}
