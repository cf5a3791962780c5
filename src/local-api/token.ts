// The one API token the local API accepts, kept in `<stateDir>/fastly-api-token` so it survives
// restarts and tools on the same machine can read it. Created on first start.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/** Name of the token file inside the state directory. */
export const TOKEN_FILE = 'fastly-api-token';

/** Shortest token accepted from an existing file; anything shorter is too guessable. */
const MIN_TOKEN_LENGTH = 32;

/** Reads the token from `file`, or creates one (32 random bytes, base64url, mode 0600). */
export function loadOrCreateToken(file: string): string {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const token = randomBytes(32).toString('base64url');
    try {
      // 'wx' fails if another process created it meanwhile; then theirs wins.
      writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      text = readFileSync(file, 'utf8');
    }
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    throw new Error(
      `Local Fastly API token file ${file} does not hold a usable token ` +
        `(at least ${MIN_TOKEN_LENGTH} printable characters); delete it to have a new one created.`,
    );
  }
  return token;
}

/** Compares a presented token with the expected one in constant time (hashes equalize lengths). */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}
