// The one rule for request paths, applied before routing: a path the service would have to
// normalise before it could route it is refused (400 `non_canonical_path`). Servers and proxies
// disagree about how to normalise (`/%61dmin`, `/x/../admin`, `/admin\keys`, `//admin`, an
// absolute-form target), so a path filter in front of this service (a CDN rule, a reverse proxy)
// could see one path while the service serves another. Refusing every such spelling means the
// filter sees exactly what is served.
//
// Canonical, here: origin-form (starts with `/`); only RFC 3986 path characters, so nothing a URL
// parser would re-encode; percent-encoding in upper case, valid UTF-8, and never of an unreserved
// character (RFC 3986 §6.2.2) or of `/`, `\` or `%` (a decoding or double-decoding proxy would
// see a separator); no `.` or `..` segment; no empty segment (`//`, a trailing `/`).
import type { ClientInfo } from './services.js';

/** RFC 3986 `pchar` outside percent-encoding, plus the `/` between segments. */
const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** The `scheme://authority` of an absolute URL. */
const ABSOLUTE_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
/** `/`, `\` and `%`: encoded, they are separators or escapes to anyone who decodes the path. */
const ENCODED_STRUCTURE: ReadonlySet<number> = new Set([0x2f, 0x5c, 0x25]);

/**
 * The path of the request as the client sent it: the raw target up to its query when the
 * platform has it, else the path of the URL the runtime gives, exactly as spelled there.
 */
export function requestPath(request: Request, client: ClientInfo): string {
  const target = client.target ?? request.url.replace(ABSOLUTE_PREFIX, '');
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  return client.target === undefined && path === '' ? '/' : path;
}

/** Why `path` is not canonical (a phrase for the error message), or undefined when it is. */
export function nonCanonical(path: string): string | undefined {
  if (!path.startsWith('/')) {
    return 'the request target must be a path (origin-form), such as /admin/keys/rotate';
  }
  const bytes: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] ?? '';
    if (ch === '%') {
      const hex = path.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'broken percent-encoding';
      if (hex !== hex.toUpperCase()) return 'percent-encoding in lower case (%2F, not %2f)';
      const byte = parseInt(hex, 16);
      if (byte < 0x80 && UNRESERVED.test(String.fromCharCode(byte))) {
        return `a percent-encoded unreserved character (%${hex} for "${String.fromCharCode(byte)}")`;
      }
      if (ENCODED_STRUCTURE.has(byte)) return 'an encoded "/", "\\" or "%"';
      bytes.push(byte);
      i += 2;
      continue;
    }
    if (ch === '\\') return 'a backslash';
    if (!PATH_CHAR.test(ch)) return 'a character that must be percent-encoded';
    bytes.push(ch.charCodeAt(0));
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return 'percent-encoding that is not UTF-8';
  }
  if (path !== '/') {
    const segments = path.split('/').slice(1);
    if (segments.some((s) => s === '.' || s === '..')) return 'a "." or ".." segment';
    if (segments.some((s) => s === '')) return 'an empty segment ("//" or a trailing "/")';
  }
  return undefined;
}

/**
 * True for paths in the admin area, however spelled: the most lenient reading any server might
 * give (scheme and host dropped, decoded repeatedly, `\` as `/`, any case, `;params` and empty
 * and dot segments resolved). Such requests are audited and rate limited like the admin area,
 * even when refused before routing, so probing with odd spellings is limited too.
 */
export function isAdminPath(rawPath: string): boolean {
  let path = rawPath.replace(ABSOLUTE_PREFIX, '');
  for (let i = 0; i < 3; i++) {
    const decoded = path.replace(/%[0-9a-f]{2}/gi, (m) =>
      String.fromCharCode(parseInt(m.slice(1), 16)),
    );
    if (decoded === path) break;
    path = decoded;
  }
  const resolved: string[] = [];
  for (const raw of path.toLowerCase().replace(/\\/g, '/').split('/')) {
    const segment = raw.split(';')[0] ?? '';
    if (segment === '' || segment === '.') continue;
    if (segment === '..') resolved.pop();
    else resolved.push(segment);
  }
  return resolved[0] === 'admin' || (resolved[0] === '_ts' && resolved[1] === 'admin');
}
