// The public JWK of an Ed25519 key (RFC 8037 §2), in the exact member order Trusted Server's
// stores hold, and its strict parsing.
import * as z from 'zod/mini';
import { fromBase64Url, toBase64Url } from '../crypto/base64.js';
import { PUBLIC_KEY_BYTES } from '../crypto/ed25519.js';

/** The public JWK we publish for each key. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  alg: 'EdDSA';
  kid: string;
}

/** zod/mini schema of a published JWK; `use` and other members from older writers are dropped. */
export const PublicJwkSchema = z.pipe(
  z.object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z
      .string()
      .check(
        z.refine(
          (x) => fromBase64Url(x)?.length === PUBLIC_KEY_BYTES,
          'x must be 32 bytes, base64url',
        ),
      ),
    alg: z.optional(z.literal('EdDSA')),
    kid: z.string(),
  }),
  z.transform((j): PublicJwk => publicJwkFromX(j.x, j.kid)),
);

/** Builds the JWK for a public key. */
export function publicJwk(kid: string, publicKey: Uint8Array): PublicJwk {
  return publicJwkFromX(toBase64Url(publicKey), kid);
}

function publicJwkFromX(x: string, kid: string): PublicJwk {
  return { kty: 'OKP', crv: 'Ed25519', x, alg: 'EdDSA', kid };
}

/** Parses a JWK config item; null when it is not an Ed25519 public JWK for `kid`. */
export function parseJwkItem(text: string, kid: string): PublicJwk | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = PublicJwkSchema.safeParse(json);
  return parsed.success && parsed.data.kid === kid ? parsed.data : null;
}

/** The 32 public-key bytes of a JWK (validated when the JWK was parsed or built). */
export function jwkPublicKey(jwk: PublicJwk): Uint8Array {
  const bytes = fromBase64Url(jwk.x);
  if (!bytes) throw new Error('JWK x is not base64url');
  return bytes;
}
