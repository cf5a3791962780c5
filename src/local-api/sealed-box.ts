// Opening libsodium sealed boxes (`crypto_box_seal`), the client-side encryption the Fastly CLI
// and go-fastly use for secrets: ephemeral X25519 public key ‖ XSalsa20-Poly1305 box, with the
// nonce BLAKE2b-192(ephemeral public key ‖ recipient public key). node:crypto has X25519 but not
// XSalsa20, Poly1305 or a 24-byte BLAKE2b, so those are written out here (RFC 7693 for BLAKE2b,
// the Salsa20 and Poly1305 papers for the rest). Only opening is needed; speed does not matter.
import { createPublicKey, diffieHellman, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const MASK64 = (1n << 64n) - 1n;
const BLAKE2B_IV = [
  0x6a09e667f3bcc908n,
  0xbb67ae8584caa73bn,
  0x3c6ef372fe94f82bn,
  0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n,
  0x9b05688c2b3e6c1fn,
  0x1f83d9abfb41bd6bn,
  0x5be0cd19137e2179n,
];
const BLAKE2B_SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

const rotr64 = (x: bigint, n: bigint): bigint => ((x >> n) | (x << (64n - n))) & MASK64;

function readLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n;
}

function writeLE(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Unkeyed BLAKE2b with an `outLength`-byte digest (RFC 7693). */
export function blake2b(input: Uint8Array, outLength: number): Uint8Array {
  const h = [...BLAKE2B_IV];
  h[0] = (h[0] ?? 0n) ^ 0x01010000n ^ BigInt(outLength);
  const blocks = Math.max(1, Math.ceil(input.length / 128));
  for (let b = 0; b < blocks; b++) {
    const block = new Uint8Array(128);
    block.set(input.subarray(b * 128, b * 128 + 128));
    const m = Array.from({ length: 16 }, (_, i) => readLE(block.subarray(i * 8, i * 8 + 8)));
    const last = b === blocks - 1;
    const v = [...h, ...BLAKE2B_IV];
    const t = BigInt(last ? input.length : (b + 1) * 128);
    v[12] = (v[12] ?? 0n) ^ (t & MASK64);
    v[13] = (v[13] ?? 0n) ^ (t >> 64n);
    if (last) v[14] = (v[14] ?? 0n) ^ MASK64;
    const g = (a: number, bb: number, c: number, d: number, x: bigint, y: bigint): void => {
      const at = (i: number): bigint => v[i] ?? 0n;
      v[a] = (at(a) + at(bb) + x) & MASK64;
      v[d] = rotr64(at(d) ^ at(a), 32n);
      v[c] = (at(c) + at(d)) & MASK64;
      v[bb] = rotr64(at(bb) ^ at(c), 24n);
      v[a] = (at(a) + at(bb) + y) & MASK64;
      v[d] = rotr64(at(d) ^ at(a), 16n);
      v[c] = (at(c) + at(d)) & MASK64;
      v[bb] = rotr64(at(bb) ^ at(c), 63n);
    };
    for (let round = 0; round < 12; round++) {
      const s = BLAKE2B_SIGMA[round % 10] ?? [];
      const word = (i: number): bigint => m[s[i] ?? 0] ?? 0n;
      g(0, 4, 8, 12, word(0), word(1));
      g(1, 5, 9, 13, word(2), word(3));
      g(2, 6, 10, 14, word(4), word(5));
      g(3, 7, 11, 15, word(6), word(7));
      g(0, 5, 10, 15, word(8), word(9));
      g(1, 6, 11, 12, word(10), word(11));
      g(2, 7, 8, 13, word(12), word(13));
      g(3, 4, 9, 14, word(14), word(15));
    }
    for (let i = 0; i < 8; i++) h[i] = (h[i] ?? 0n) ^ (v[i] ?? 0n) ^ (v[i + 8] ?? 0n);
  }
  const out = new Uint8Array(64);
  h.forEach((word, i) => out.set(writeLE(word, 8), i * 8));
  return out.slice(0, outLength);
}

const DOUBLE_ROUND: [number, number, number, number][] = [
  [0, 4, 8, 12],
  [5, 9, 13, 1],
  [10, 14, 2, 6],
  [15, 3, 7, 11],
  [0, 1, 2, 3],
  [5, 6, 7, 4],
  [10, 11, 8, 9],
  [15, 12, 13, 14],
];

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

/** The Salsa20/20 core over a 16-word state; `hsalsa` selects HSalsa20's output words. */
function salsaCore(input: Uint32Array, hsalsa: boolean): Uint32Array {
  const x = input.slice();
  const qr = (a: number, b: number, c: number, d: number): void => {
    const r = (v: number, n: number): number => (v << n) | (v >>> (32 - n));
    x[b] = (x[b] ?? 0) ^ r(((x[a] ?? 0) + (x[d] ?? 0)) | 0, 7);
    x[c] = (x[c] ?? 0) ^ r(((x[b] ?? 0) + (x[a] ?? 0)) | 0, 9);
    x[d] = (x[d] ?? 0) ^ r(((x[c] ?? 0) + (x[b] ?? 0)) | 0, 13);
    x[a] = (x[a] ?? 0) ^ r(((x[d] ?? 0) + (x[c] ?? 0)) | 0, 18);
  };
  for (let i = 0; i < 10; i++) {
    // Columns, then rows.
    for (const [a, b, c, d] of DOUBLE_ROUND) qr(a, b, c, d);
  }
  if (hsalsa) return Uint32Array.from([0, 5, 10, 15, 6, 7, 8, 9], (i) => x[i] ?? 0);
  return x.map((v, i) => (v + (input[i] ?? 0)) | 0);
}

function words(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(i * 4, true));
}

function bytesOf(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return out;
}

/** The Salsa20 input state: constants, a 32-byte key and 16 bytes of nonce (and counter). */
function salsaState(key: Uint8Array, sixteen: Uint8Array): Uint32Array {
  const [k0, k1, k2, k3, k4, k5, k6, k7] = words(key);
  const [n0, n1, n2, n3] = words(sixteen);
  const [s0, s1, s2, s3] = SIGMA;
  return Uint32Array.from(
    [s0, k0, k1, k2, k3, s1, n0, n1, n2, n3, s2, k4, k5, k6, k7, s3],
    (w) => w ?? 0,
  );
}

/** HSalsa20: derives a 32-byte key from a key and 16 bytes of nonce. */
function hsalsa20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  return bytesOf(salsaCore(salsaState(key, nonce16), true));
}

/** `length` bytes of the XSalsa20 key stream for a 24-byte nonce. */
function xsalsa20Stream(key: Uint8Array, nonce: Uint8Array, length: number): Uint8Array {
  const subkey = hsalsa20(key, nonce.subarray(0, 16));
  const out = new Uint8Array(Math.ceil(length / 64) * 64);
  const block = new Uint8Array(16);
  block.set(nonce.subarray(16, 24));
  for (let counter = 0; counter * 64 < length; counter++) {
    new DataView(block.buffer).setUint32(8, counter, true);
    out.set(bytesOf(salsaCore(salsaState(subkey, block), false)), counter * 64);
  }
  return out.subarray(0, length);
}

/** The Poly1305 tag of `message` under a one-time 32-byte key. */
function poly1305(key: Uint8Array, message: Uint8Array): Uint8Array {
  const p = (1n << 130n) - 5n;
  const r = readLE(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const chunk = message.subarray(i, i + 16);
    acc = ((acc + readLE(chunk) + (1n << BigInt(8 * chunk.length))) * r) % p;
  }
  return writeLE((acc + readLE(key.subarray(16, 32))) & ((1n << 128n) - 1n), 16);
}

/** An X25519 key from its raw 32 bytes. */
function x25519Public(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

/** The raw 32 bytes of an X25519 or Ed25519 public key (or of a private key's public half). */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(String(jwk.x), 'base64url'));
}

/** Opens a sealed box for the recipient key pair; null if it was not sealed to it or altered. */
export function openSealedBox(sealed: Uint8Array, privateKey: KeyObject): Uint8Array | null {
  if (sealed.length < 48) return null;
  const ephemeral = sealed.subarray(0, 32);
  const recipient = rawPublicKey(privateKey);
  const nonce = blake2b(Buffer.concat([ephemeral, recipient]), 24);
  let shared: Uint8Array;
  try {
    shared = diffieHellman({ privateKey, publicKey: x25519Public(ephemeral) });
  } catch {
    return null; // a low-order ephemeral key
  }
  const key = hsalsa20(shared, new Uint8Array(16));
  const box = sealed.subarray(32);
  const stream = xsalsa20Stream(key, nonce, 32 + box.length - 16);
  const tag = poly1305(stream.subarray(0, 32), box.subarray(16));
  if (!timingSafeEqual(tag, box.subarray(0, 16))) return null;
  return box.subarray(16).map((byte, i) => byte ^ (stream[32 + i] ?? 0));
}
