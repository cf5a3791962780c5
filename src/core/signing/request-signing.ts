// Trusted Server's request-signing protocol v1.1: a compact JSON payload, in a fixed member
// order, signed with Ed25519 and sent as unpadded base64url.
import { toBase64Url, utf8 } from '../crypto/base64.js';
import { sign, type SigningKey } from '../crypto/ed25519.js';

/** The protocol version this service signs. */
export const SIGNING_VERSION = '1.1';

/** The facts bound into a v1.1 signature. */
export interface SigningParams {
  kid: string;
  host: string;
  id: string;
  /** Unix time in milliseconds. */
  ts: number;
}

/** The exact text that is signed: `{"version","kid","host","scheme","id","ts"}` in that order. */
export function buildPayloadV11(params: SigningParams): string {
  return JSON.stringify({
    version: SIGNING_VERSION,
    kid: params.kid,
    host: params.host,
    scheme: 'https',
    id: params.id,
    ts: params.ts,
  });
}

/** Signs a payload text with a seed; the signature as unpadded base64url. */
export async function signPayload(seed: Uint8Array, payload: string): Promise<string> {
  return toBase64Url(await sign(seed, utf8(payload)));
}

/** `signPayload` with a seed already expanded (`signingKey`). */
export async function signPayloadWith(key: SigningKey, payload: string): Promise<string> {
  return toBase64Url(await key.sign(utf8(payload)));
}
