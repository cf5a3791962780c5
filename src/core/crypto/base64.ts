// Base64 in both alphabets over bytes, with strict decoding. Written by hand because the edge
// needs only these few lines and strictness matters: a signature or seed that does not decode
// exactly is refused, never "repaired".

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

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

/** Unpadded base64url → bytes, or null when the text is not canonical base64url. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!URL_SAFE.test(text) || text.length % 4 === 1) return null;
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
}

/** Accepts base64url without padding or padded standard base64 (what partners send). */
export function fromEitherBase64(text: string): Uint8Array | null {
  return fromBase64Url(text) ?? fromBase64(text);
}

/** UTF-8 text → bytes. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
}
