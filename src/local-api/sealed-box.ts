// Opening libsodium sealed boxes (`crypto_box_seal`), the client-side encryption the Fastly CLI
// and go-fastly use for secrets. The construction lives in src/fastly-api/sealed-box.ts (the
// client seals with it), built only on audited @noble/* primitives; this adapts it to the
// node:crypto key objects the local API keeps.
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2b as nobleBlake2b } from '@noble/hashes/blake2.js';
import { openBox } from '../fastly-api/sealed-box.js';

/** Unkeyed BLAKE2b with an `outLength`-byte digest (RFC 7693). */
export function blake2b(input: Uint8Array, outLength: number): Uint8Array {
  return nobleBlake2b(input, { dkLen: outLength });
}

/** The raw 32 bytes of an X25519 or Ed25519 public key (or of a private key's public half). */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(String(jwk.x), 'base64url'));
}

/** Opens a sealed box for the recipient key pair; null if it was not sealed to it or altered. */
export function openSealedBox(sealed: Uint8Array, privateKey: KeyObject): Uint8Array | null {
  const secret = new Uint8Array(
    Buffer.from(String(privateKey.export({ format: 'jwk' }).d), 'base64url'),
  );
  try {
    return openBox(x25519, sealed, secret);
  } finally {
    secret.fill(0);
  }
}
