// Ed25519 (RFC 8032 §5.1) over @noble/ed25519's point arithmetic, because Fastly's crypto.subtle
// has no Ed25519. SHA-512 is crypto.subtle's (through @noble/ed25519's async hash slot), which the
// edge has and which measured faster there than a pure-JS hash. Multiples of the base point come
// from ./base-point.ts, whose table the Fastly build bakes into the wasm snapshot: @noble/ed25519's
// own sign and verify would build their table again in every fresh instance (see that file).
import * as ed from '@noble/ed25519';
import type { Random } from '../ports.js';
import { multiplyBase, multiplyPublic } from './base-point.js';

export { precomputeBaseTable } from './base-point.js';

/** Length of an Ed25519 seed (the private key as Trusted Server stores it). */
export const SEED_BYTES = 32;
/** Length of an Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;

/** The order L of the base point (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Little-endian bytes as an integer. */
function numberLE(bytes: Uint8Array): bigint {
  let hex = '';
  for (let i = bytes.length - 1; i >= 0; i--) hex += HEX[bytes[i] as number];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

/** 0 <= n < 2^256 as 32 little-endian bytes. */
function bytesLE32(n: bigint): Uint8Array {
  const hex = n.toString(16).padStart(64, '0');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(62 - 2 * i, 64 - 2 * i), 16);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha512(...parts: Uint8Array[]): Promise<Uint8Array> {
  const digest = await ed.hashes.sha512Async(concat(...parts));
  if (digest.length !== 64) throw new Error('SHA-512 returned the wrong length');
  return digest;
}

/** The secret scalar, the nonce prefix and the public key of a seed (RFC 8032 §5.1.5). */
async function expand(seed: Uint8Array): Promise<{ s: bigint; prefix: Uint8Array; A: Uint8Array }> {
  if (seed.length !== SEED_BYTES) throw new Error('an Ed25519 seed is 32 bytes');
  const h = await sha512(seed);
  const head = h.slice(0, 32);
  head[0] = (head[0] as number) & 248;
  head[31] = ((head[31] as number) & 127) | 64;
  // The clamped scalar reduced mod L gives the same multiple of B, which has order L.
  const s = numberLE(head) % L;
  return { s, prefix: h.slice(32), A: multiplyBase(s).toBytes() };
}

/** A fresh 32-byte seed from the injected randomness. */
export function generateSeed(random: Random): Uint8Array {
  const seed = random.bytes(SEED_BYTES);
  if (seed.length !== SEED_BYTES) throw new Error('random source returned the wrong length');
  return seed;
}

/** The public key of a seed (RFC 8032 §5.1.5). */
export async function publicKeyOf(seed: Uint8Array): Promise<Uint8Array> {
  return (await expand(seed)).A;
}

/** Signs `message` with the seed (RFC 8032 §5.1.6). */
export async function sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return signExpanded(await expand(seed), message);
}

/** A seed expanded once: its public key, and signing without expanding it again. */
export interface SigningKey {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * Expands a seed once, for a caller that needs its public key and a signature (the sign route
 * checks the key against its JWK, then signs): one SHA-512 and one base-point multiplication
 * fewer than `publicKeyOf` then `sign`, about 1.5 ms in a fresh Compute instance.
 */
export async function signingKey(seed: Uint8Array): Promise<SigningKey> {
  const expanded = await expand(seed);
  return {
    // A copy: the signature hashes A, so a caller's change to this array must not reach it.
    publicKey: expanded.A.slice(),
    sign: (message) => signExpanded(expanded, message),
  };
}

async function signExpanded(
  { s, prefix, A }: { s: bigint; prefix: Uint8Array; A: Uint8Array },
  message: Uint8Array,
): Promise<Uint8Array> {
  const r = numberLE(await sha512(prefix, message)) % L;
  // r = 0 would need a SHA-512 output that is a multiple of L: refuse rather than sign with it.
  if (r === 0n) throw new Error('Ed25519 nonce is zero');
  const R = multiplyBase(r).toBytes();
  const k = numberLE(await sha512(R, A, message)) % L;
  return concat(R, bytesLE32((r + k * s) % L));
}

/**
 * Verifies a signature strictly (RFC 8032 §5.1.7 with canonical encodings, not ZIP-215), with
 * exactly @noble/ed25519's `verify(…, { zip215: false })` rules: A and R canonical and on the
 * curve, S < L, A not of small order, and the cofactored equation [8]([S]B) = [8](R + [k]A).
 * False for any malformed key or signature rather than an exception.
 */
export async function verify(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  const rBytes = signature.subarray(0, 32);
  const S = numberLE(signature.subarray(32, 64));
  if (S >= L) return false;
  let A: ed.Point;
  let R: ed.Point;
  try {
    A = ed.Point.fromBytes(publicKey, false);
    R = ed.Point.fromBytes(rBytes, false);
  } catch {
    return false;
  }
  if (timesEight(A).is0()) return false;
  const k = numberLE(await sha512(rBytes, publicKey, message)) % L;
  // Not @noble/ed25519's A.multiply: for the base point it would build its own table (120 ms in
  // a fresh instance), and for any other it is twice as slow as ./base-point.ts's.
  const kA = multiplyPublic(A, k);
  return timesEight(R.add(kA).subtract(multiplyBase(S))).is0();
}

/** [8]P by three doublings (@noble/ed25519's clearCofactor, without its base-point table path). */
function timesEight(p: ed.Point): ed.Point {
  return p.double().double().double();
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
