// Base64 in both alphabets over bytes, with strict decoding. Written by hand because the edge
// needs only these few lines and strictness matters: a signature or seed that does not decode
// exactly is refused, never "repaired".

const STD = /^[A-Za-z0-9+/]*={0,2}$/;

/** Bytes → padded standard base64 (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Bytes → unpadded base64url (RFC 4648 §5), as JOSE uses it. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Padded standard base64 → bytes, or null when the text is not canonical base64. */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !STD.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // Non-canonical trailing bits decode to the same bytes; refuse them so one value has one text.
  return toBase64(bytes) === text ? bytes : null;
}

/** The value of each base64url character by its code (-1: not in the alphabet). */
const URL_VALUES: readonly number[] = Array.from({ length: 128 }, (_, c) =>
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(
    String.fromCharCode(c),
  ),
);

/**
 * Unpadded base64url → bytes, or null when the text is not canonical base64url. Decoded by table:
 * every JWK parse and signature goes through here, and in the engine (no JIT) the former way,
 * through padded standard base64, `atob` and a re-encoding to check canonicity, cost about
 * 0.4 ms a key (docs/performance.md). Canonical: only the alphabet, no padding, no length of
 * 4n+1, and the bits past the last whole byte zero.
 */
export function fromBase64Url(text: string): Uint8Array | null {
  const n = text.length;
  if (n % 4 === 1) return null;
  const out = new Uint8Array((n * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (URL_VALUES[code] as number) : -1;
    if (value < 0) return null;
    acc = (acc << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = acc >> bits;
      acc &= (1 << bits) - 1;
    }
  }
  return acc === 0 ? out : null;
}

/** Accepts base64url without padding or padded standard base64 (what partners send). */
export function fromEitherBase64(text: string): Uint8Array | null {
  return fromBase64Url(text) ?? fromBase64(text);
}

/** UTF-8 text → bytes. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}
