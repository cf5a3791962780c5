// `If-Match: "<keyring version>"` on mutations: a client's guard against lost updates.
import { TskError } from '../core/errors.js';

/** The version a client expects, or undefined when it sent no If-Match. */
export function parseIfMatch(request: Request): number | undefined {
  const header = request.headers.get('if-match');
  if (header === null || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match?.[1]) {
    throw new TskError(
      'invalid_request',
      'If-Match must be one quoted keyring version, e.g. If-Match: "12"',
    );
  }
  return Number(match[1]);
}
