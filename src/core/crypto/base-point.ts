// Multiples of Ed25519 points over plain BigInts. The base point's come from a table that the
// Fastly build computes once (at top level, under Wizer) so that no request builds one.
//
// Why not @noble/ed25519's own table: it is built lazily by the first sign or verify of each fresh
// instance (about 120 ms in the js-compute engine, which has no JIT), and baked into the snapshot
// it costs 5.4 MiB of wasm: 4,224 frozen `Point` objects of four BigInts each. This table holds
// three BigInts per entry in one flat array, in the form the mixed addition below consumes
// (y+x, y-x and 2d·x·y of each affine multiple). Each BigInt left in the heap costs roughly
// 170 bytes of snapshot, so the window width trades wasm size against additions per signature.
import * as ed from '@noble/ed25519';

const P = 2n ** 255n - 19n;
/** Edwards d of edwards25519 (RFC 8032 §5.1). */
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
const D2 = (2n * D) % P;

/**
 * Window width in bits. The table holds 2^(W-1) multiples per window and a multiplication adds one
 * entry per window. 6 bits: 44 additions over 1,408 entries; 8 bits (@noble/ed25519's choice) would
 * save 11 additions per multiplication (two per signature) for 3.2 times the table: measured
 * +2.1 MiB of wasm against about +0.7 MiB (docs/performance.md).
 */
export const WINDOW_BITS = 6;
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

/**
 * [k]A for a public point A and 0 <= k < 2^256, for verification only: variable time (k and A are
 * public there). @noble/ed25519's own multiplication for it is a bit-by-bit ladder over its Point
 * objects (about 380 additions and doublings, each allocating and range-checking a frozen Point);
 * this is a 4-bit fixed window over plain BigInts: 252 doublings, 64 additions and 8 to build the
 * multiples, which measured about twice as fast in the js-compute engine.
 */
export function multiplyPublic(a: ed.Point, k: bigint): ed.Point {
  if (k < 0n || k >= 2n ** 256n) throw new RangeError('scalar out of range');
  // 1·A .. 15·A in the form addition consumes: (Y-X, Y+X, 2d·T, 2Z).
  const multiples: Array<[bigint, bigint, bigint, bigint]> = [];
  let m: Ext = [a.X, a.Y, a.Z, a.T];
  const cached = (p: Ext): [bigint, bigint, bigint, bigint] => [
    mod(p[1] - p[0]),
    mod(p[1] + p[0]),
    (D2 * p[3]) % P,
    (2n * p[2]) % P,
  ];
  const first = cached(m);
  multiples.push(first);
  for (let j = 2; j < 16; j++) {
    m = add(m, first);
    multiples.push(cached(m));
  }
  let acc: Ext = [0n, 1n, 1n, 0n];
  for (let shift = 252n; shift >= 0n; shift -= 4n) {
    if (shift !== 252n) acc = double(double(double(double(acc))));
    const nibble = Number((k >> shift) & 15n);
    if (nibble !== 0) acc = add(acc, multiples[nibble - 1] as [bigint, bigint, bigint, bigint]);
  }
  return new ed.Point(mod(acc[0]), mod(acc[1]), mod(acc[2]), mod(acc[3]));
}

/** Extended coordinates (X:Y:Z:T), each reduced mod P but possibly negative. */
type Ext = [bigint, bigint, bigint, bigint];

/** p + q, q as (Y-X, Y+X, 2d·T, 2Z) ("add-2008-hwcd-3", a = -1). */
function add(p: Ext, q: [bigint, bigint, bigint, bigint]): Ext {
  const A = ((p[1] - p[0]) * q[0]) % P;
  const B = ((p[1] + p[0]) * q[1]) % P;
  const C = (p[3] * q[2]) % P;
  const D = (p[2] * q[3]) % P;
  const E = B - A;
  const F = D - C;
  const G = D + C;
  const H = B + A;
  return [(E * F) % P, (G * H) % P, (F * G) % P, (E * H) % P];
}

/** 2p ("dbl-2008-hwcd", a = -1). */
function double(p: Ext): Ext {
  const A = (p[0] * p[0]) % P;
  const B = (p[1] * p[1]) % P;
  const C = (2n * p[2] * p[2]) % P;
  const s = p[0] + p[1];
  const E = (s * s - A - B) % P;
  const G = B - A;
  const F = G - C;
  const H = -A - B;
  return [(E * F) % P, (G * H) % P, (F * G) % P, (E * H) % P];
}
