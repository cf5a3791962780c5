// Strict base64 decoding for the verifier. A copy of the few lines it needs rather than an import:
// this folder ships to partners and depends on nothing else in the repository.

const STD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

function bytesToStd(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Padded standard base64 → bytes, or null unless the text is the one canonical spelling. */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !STD.test(text)) return null;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // Non-zero trailing bits decode to the same bytes: refuse them, so one value has one text.
  return bytesToStd(bytes) === text ? bytes : null;
}

/** Unpadded base64url → bytes, or null unless the text is the one canonical spelling. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!URL_SAFE.test(text) || text.length % 4 === 1) return null;
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
}
