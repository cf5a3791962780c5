// `If-Match` on mutations: a client's guard against lost updates. It takes the key documents'
// `ETag`, whichever form it has: the keyring version (`"12"`), or, for documents rendered from
// Trusted Server's items (a store never changed here, or one its tools changed since), a content
// hash (`"h…"`), which the engine compares with the documents as they are now.
import { TskError } from '../core/errors.js';

/** The version (or content ETag) a client expects, or undefined when it sent no If-Match. */
export function parseIfMatch(request: Request): number | string | undefined {
  const header = request.headers.get('if-match');
  if (header === null || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15}|h[0-9a-f]{20})"\s*$/.exec(header);
  if (!match?.[1]) {
    throw new TskError(
      'invalid_request',
      'If-Match must be one ETag of the key documents: a quoted keyring version (If-Match: "12") or the content ETag they carry ("h…")',
    );
  }
  return match[1].startsWith('h') ? `"${match[1]}"` : Number(match[1]);
}
