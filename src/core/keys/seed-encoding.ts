// How a private key is stored in the `signing_keys` secret store: padded standard base64 of the
// 32-byte Ed25519 seed (44 characters), exactly as Trusted Server writes and reads it.
import { fromBase64, toBase64 } from '../crypto/base64.js';
import { SEED_BYTES } from '../crypto/ed25519.js';
import { TskError } from '../errors.js';

/** Seed → the secret's plaintext. */
export function encodeSeed(seed: Uint8Array): string {
  if (seed.length !== SEED_BYTES) throw new Error('an Ed25519 seed is 32 bytes');
  return toBase64(seed);
}

/** The secret's plaintext → seed; `keyring_corrupt` (naming the kid, never the value) otherwise. */
export function decodeSeed(text: string, kid: string): Uint8Array {
  const seed = fromBase64(text.trim());
  if (!seed || seed.length !== SEED_BYTES) {
    throw new TskError(
      'keyring_corrupt',
      `the private key stored for "${kid}" is not a base64 32-byte Ed25519 seed`,
    );
  }
  return seed;
}
