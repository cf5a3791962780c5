// Multiplication of the Ed25519 base point by a scalar, over a table of its multiples that the
// Fastly build computes once (at top level, under Wizer) so that no request builds one.
//
// Why not @noble/ed25519's own table: it is built lazily by the first sign or verify of each fresh
// instance (about 120 ms in the js-compute engine, which has no JIT), and baked into the snapshot
// it costs 5.4 MiB of wasm, because it is 4,224 frozen `Point` objects of four BigInts each. This
// table holds three BigInts per entry in one flat array, in the form the mixed addition below
// consumes directly (RFC 8032 §5.1.4 coordinates; y+x, y-x and 2d·x·y of each affine multiple).
import * as ed from '@noble/ed25519';

const P = 2n ** 255n - 19n;
/** Edwards d of edwards25519 (RFC 8032 §5.1). */
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const D2 = (2n * D) % P;

/**
 * Window width in bits. The table holds 2^(W-1) multiples per window and a multiplication adds one
 * entry per window: 8 bits means 33 additions and 4,224 entries (about 1.9 MiB of snapshot, see
 * docs/performance.md); each bit less halves the table and adds roughly a fifth to the additions.
 */
export const WINDOW_BITS = 8;
const WINDOWS = Math.ceil(256 / WINDOW_BITS) + 1;
const PER_WINDOW = 2 ** (WINDOW_BITS - 1);
const MASK = BigInt(2 ** WINDOW_BITS - 1);
const SHIFT = BigInt(WINDOW_BITS);
const FULL = 2 ** WINDOW_BITS;

/** [y+x, y-x, 2d·x·y] of each entry, window by window; undefined until first built. */
let table: bigint[] | undefined;

const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

/**
 * Builds the table if it is not built yet (idempotent). The Fastly entry calls it at top level so
 * the table is part of the wasm snapshot; elsewhere the first multiplication builds it.
 */
export function precomputeBaseTable(): void {
  if (table) return;
  const out: bigint[] = [];
  let windowBase = ed.Point.BASE;
  for (let w = 0; w < WINDOWS; w++) {
    let p = windowBase;
    for (let j = 1; j <= PER_WINDOW; j++) {
      const { x, y } = p.toAffine();
      out.push(mod(y + x), mod(y - x), mod(D2 * x * y));
      if (j < PER_WINDOW) p = p.add(windowBase);
    }
    // The next window's base is 2^W times this one's: double the last entry (2^(W-1)) once.
    windowBase = p.double();
  }
  table = out;
}

/**
 * [n]B for 0 <= n < 2^256, as a point of @noble/ed25519. One table addition per window whatever
 * the digits (a zero digit adds to a throwaway accumulator), as @noble/ed25519 does for its own
 * table, so the count of additions does not depend on the secret scalar.
 */
export function multiplyBase(n: bigint): ed.Point {
  if (n < 0n || n >= 2n ** 256n) throw new RangeError('scalar out of range');
  precomputeBaseTable();
  const t = table as bigint[];
  // Extended coordinates (X:Y:Z:T) of the accumulator and of the throwaway one.
  let X = 0n,
    Y = 1n,
    Z = 1n,
    T = 0n;
  let fX = 0n,
    fY = 1n,
    fZ = 1n,
    fT = 0n;
  for (let w = 0; w < WINDOWS; w++) {
    let digit = Number(n & MASK);
    n >>= SHIFT;
    // Signed digits in [-2^(W-1), 2^(W-1)]: a larger digit is taken as digit - 2^W, carrying one.
    if (digit > PER_WINDOW) {
      digit -= FULL;
      n += 1n;
    }
    const zero = digit === 0;
    const i = (w * PER_WINDOW + (zero ? 0 : Math.abs(digit) - 1)) * 3;
    const neg = digit < 0;
    // -(x, y) = (-x, y): y+x and y-x swap, 2d·x·y changes sign.
    const ypx = (neg ? t[i + 1] : t[i]) as bigint;
    const ymx = (neg ? t[i] : t[i + 1]) as bigint;
    const xy2d = neg ? P - (t[i + 2] as bigint) : (t[i + 2] as bigint);
    // Mixed addition of an affine point in extended coordinates for a = -1
    // (Hisil–Wong–Carter–Dawson 2008, "madd-2008-hwcd-3"): 7 multiplications.
    const [aX, aY, aZ, aT] = zero ? [fX, fY, fZ, fT] : [X, Y, Z, T];
    const A = ((aY - aX) * ymx) % P;
    const B = ((aY + aX) * ypx) % P;
    const C = (aT * xy2d) % P;
    const D = (2n * aZ) % P;
    const E = B - A;
    const F = D - C;
    const G = D + C;
    const H = B + A;
    const nX = (E * F) % P;
    const nY = (G * H) % P;
    const nZ = (F * G) % P;
    const nT = (E * H) % P;
    if (zero) {
      fX = nX;
      fY = nY;
      fZ = nZ;
      fT = nT;
    } else {
      X = nX;
      Y = nY;
      Z = nZ;
      T = nT;
    }
  }
  if (n !== 0n) throw new Error('scalar recoding left a carry');
  return new ed.Point(mod(X), mod(Y), mod(Z), mod(T));
}
