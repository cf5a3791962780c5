// Names, keys, values and their limits. Where Fastly's rule is documented it is copied; where it
// is not, the stricter plausible rule is used so that what works here also works on Fastly.
import { badRequest } from './errors.js';

/** Config store item values: at most 8,000 characters (Fastly's documented limit). */
export const MAX_CONFIG_VALUE_CHARS = 8000;
/** Config store item keys: at most 255 characters (the edge `get` throws above that). */
export const MAX_CONFIG_KEY_CHARS = 255;
/** Items per config store (about 500 on paid accounts). */
export const MAX_CONFIG_ITEMS = 500;
/** Secrets: at most 64 KB of plaintext (Fastly's documented limit). */
export const MAX_SECRET_BYTES = 64 * 1024;
/** Store and secret names: no documented maximum; 255 is assumed. */
export const MAX_NAME_CHARS = 255;
/** KV keys: at most 1,024 bytes of UTF-8 (the edge SDK's rule). */
export const MAX_KV_KEY_BYTES = 1024;

const chars = (s: string): number => [...s].length;

/**
 * Config store names. The API itself accepts any non-empty name (go-fastly's recorded runs
 * create `TestClient_ListConfigStores-00` and rename to `UPDATED NAME!`); only the edge insists on
 * a letter followed by letters, digits, `_` or spaces, so that rule is not enforced here.
 */
export function checkConfigStoreName(name: string): void {
  if (name === '') throw badRequest('Missing required field: name');
  if (chars(name) > MAX_NAME_CHARS) {
    throw badRequest(`name must be at most ${MAX_NAME_CHARS} characters`);
  }
}

/** Config item keys: non-empty, at most 255 characters. */
export function checkConfigKey(key: string, where = 'item_key'): void {
  if (key === '') throw badRequest(`${where} must not be empty`);
  const n = chars(key);
  if (n > MAX_CONFIG_KEY_CHARS) {
    throw badRequest(`${where} must be at most ${MAX_CONFIG_KEY_CHARS} characters`, `got ${n}`);
  }
}

/** Config item values: at most 8,000 characters (counted as Unicode code points). */
export function checkConfigValue(value: string, where = 'item_value'): void {
  const n = chars(value);
  if (n > MAX_CONFIG_VALUE_CHARS) {
    throw badRequest(`${where} must be at most ${MAX_CONFIG_VALUE_CHARS} characters`, `got ${n}`);
  }
}

/** Secret store and secret names: letters, digits, `-`, `_` and `.` (Fastly's documented rule). */
export function checkSecretName(name: string, what: 'name' | 'store name'): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw badRequest(
      `Invalid ${what}: use only letters, digits, dashes, underscores and periods`,
      `got ${JSON.stringify(name)}`,
    );
  }
  if (name.length > MAX_NAME_CHARS) {
    throw badRequest(`Invalid ${what}: at most ${MAX_NAME_CHARS} characters`);
  }
}

/** KV store names: non-empty, at most 255 characters (Fastly's exact rule is undocumented). */
export function checkKvStoreName(name: string): void {
  if (name === '' || chars(name) > MAX_NAME_CHARS) {
    throw badRequest(`Invalid name: 1 to ${MAX_NAME_CHARS} characters`);
  }
}

/** KV keys, with the edge SDK's rules (the API would otherwise accept keys the edge cannot read). */
export function checkKvKey(key: string): void {
  const bad =
    key === '' ||
    key === '.' ||
    key === '..' ||
    key.startsWith('.well-known/acme-challenge/') ||
    /[#?*[\]\r\n]/.test(key) ||
    Buffer.byteLength(key, 'utf8') > MAX_KV_KEY_BYTES;
  if (bad) {
    throw badRequest(
      'Invalid key',
      'keys are 1 to 1024 bytes, not "." or "..", without #?*[] or line breaks, ' +
        'and not under .well-known/acme-challenge/',
    );
  }
}

/**
 * Decodes standard, padded base64 (what Go's `[]byte` JSON encoding, and so go-fastly, sends).
 * Node's own decoder skips junk silently, so the text is checked and must round-trip.
 */
export function decodeBase64Strict(text: string, field: string): Uint8Array {
  const ok = text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
  const bytes = ok ? Buffer.from(text, 'base64') : undefined;
  if (bytes === undefined || bytes.toString('base64') !== text) {
    throw badRequest(`Invalid ${field}: must be standard base64 with padding`);
  }
  return new Uint8Array(bytes);
}
