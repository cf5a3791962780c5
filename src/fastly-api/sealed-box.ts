// libsodium's sealed boxes (`crypto_box_seal`), the client-side encryption Fastly takes for
// secrets: an ephemeral X25519 key pair, the shared key HSalsa20(X25519(esk, pk), 0), the nonce
// BLAKE2b-192(epk ‖ pk), and XSalsa20-Poly1305 (secretbox); the box is epk ‖ tag ‖ ciphertext.
// Only audited primitives from @noble/* are used, each imported from its own module so the wasm
// carries only these. Web APIs only: this runs inside the Compute wasm.
//
// X25519 is passed in, so tests can check the box against other implementations; the edge's is
// ./x25519.ts.
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { x25519 } from './x25519.js';

/** The X25519 functions a sealed box needs (those of @noble/curves' `x25519`). */
export interface X25519 {
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

/** X25519 on @noble/curves' Montgomery ladder (see ./x25519.ts for why not its ed25519 module). */
export async function loadX25519(): Promise<X25519> {
  return x25519;
}

/** Length of an X25519 key. */
export const X25519_KEY_BYTES = 32;
/** How much longer a sealed box is than its message: the ephemeral key and the tag. */
export const SEAL_OVERHEAD = 48;

// "expand 32-byte k", the Salsa20 constants HSalsa20 starts from.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function wordsLE(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(i * 4, true));
}

function bytesLE(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return out;
}

/** crypto_box_beforenm: the secretbox key both sides derive from their X25519 shared secret. */
function boxKey(shared: Uint8Array): Uint8Array {
  const out = new Uint32Array(8);
  hsalsa(SIGMA, wordsLE(shared), new Uint32Array(4), out);
  return bytesLE(out);
}

function sealNonce(ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const input = new Uint8Array(64);
  input.set(ephemeralPublic, 0);
  input.set(recipientPublic, 32);
  return blake2b(input, { dkLen: 24 });
}

/**
 * Seals `message` to the X25519 public key `recipient` (crypto_box_seal). `random(32)` gives
 * the ephemeral secret key; it is used once and dropped.
 */
export function sealBox(
  x25519: X25519,
  message: Uint8Array,
  recipient: Uint8Array,
  random: (n: number) => Uint8Array,
): Uint8Array {
  if (recipient.length !== X25519_KEY_BYTES) throw new RangeError('recipient key must be 32 bytes');
  const ephemeralSecret = random(X25519_KEY_BYTES);
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  // Throws on a low-order recipient key (an all-zero shared secret), which seals to nobody.
  const shared = x25519.getSharedSecret(ephemeralSecret, recipient);
  ephemeralSecret.fill(0);
  const box = xsalsa20poly1305(boxKey(shared), sealNonce(ephemeralPublic, recipient)).encrypt(
    message,
  );
  const out = new Uint8Array(X25519_KEY_BYTES + box.length);
  out.set(ephemeralPublic, 0);
  out.set(box, X25519_KEY_BYTES);
  return out;
}

/** Opens a sealed box with the recipient's X25519 secret key; null if altered or not for it. */
export function openBox(
  x25519: X25519,
  sealed: Uint8Array,
  recipientSecret: Uint8Array,
): Uint8Array | null {
  if (sealed.length < SEAL_OVERHEAD) return null;
  const ephemeralPublic = sealed.subarray(0, X25519_KEY_BYTES);
  try {
    const recipientPublic = x25519.getPublicKey(recipientSecret);
    const shared = x25519.getSharedSecret(recipientSecret, ephemeralPublic);
    const nonce = sealNonce(ephemeralPublic, recipientPublic);
    return xsalsa20poly1305(boxKey(shared), nonce).decrypt(sealed.subarray(X25519_KEY_BYTES));
  } catch {
    // A low-order ephemeral key, or a tag that does not verify.
    return null;
  }
}
