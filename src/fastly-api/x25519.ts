// X25519 (RFC 7748) on @noble/curves' audited Montgomery ladder, given the curve's constants.
// Imported from noble's abstract module rather than from `@noble/curves/ed25519.js`, which also
// brings Edwards arithmetic, FROST, OPRF and hash-to-curve code (about 2.4 MiB of wasm) and draws
// random bytes when it loads, which must not happen while the Compute wasm is initialised.
import { pow } from '@noble/curves/abstract/modular.js';
import { montgomery } from '@noble/curves/abstract/montgomery.js';

/** The field prime 2^255 − 19. */
const P = 2n ** 255n - 19n;

/** X25519: `getPublicKey(secret)` and `getSharedSecret(secret, peerPublic)`, 32-byte keys. */
export const x25519 = montgomery({
  P,
  type: 'x25519',
  // Inversion by Fermat's little theorem, x^(p−2) mod p.
  powPminus2: (x: bigint) => pow(x, P - 2n, P),
  // RFC 7748 §5's clamping of a scalar.
  adjustScalarBytes: (bytes: Uint8Array) => {
    bytes[0] = (bytes[0] ?? 0) & 248;
    bytes[31] = ((bytes[31] ?? 0) & 127) | 64;
    return bytes;
  },
});
