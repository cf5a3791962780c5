// Standard, padded base64 over bytes, as the secret-store API takes secrets. `btoa`/`atob` exist
// on both Fastly Compute and Node; they work on "binary strings", hence the byte loops.

// Bounds the argument count of String.fromCharCode.apply-style spreading on large inputs.
const CHUNK = 0x8000;

/** Padded standard base64 of the bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** The bytes of padded (or unpadded) standard base64 text; throws on other input. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The UTF-8 bytes of text, or the bytes themselves. */
export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}
