// The hostile-input table: malformed and adversarial requests with the exact status each must
// get. Pure data; `hostile-table.test.ts` sends each over real HTTP to the local edge. Each row
// expects the answer an operator would want (src/http/body.ts, canonical-path.ts, router.ts,
// admin-gate.ts, core/auth, core/keys/kid.ts give it).

/** Who answers, which decides the headers and the audit line a case must get. */
export type Surface =
  /** The app, for the admin area: `no-store`, `nosniff`, no CORS, exactly one audit line. */
  | 'admin'
  /** The app, on a public route: CORS for any origin, no audit line. */
  | 'public'
  /** The app, outside both (an unknown non-admin path): `no-store`, no CORS, no audit line. */
  | 'other'
  /** Node's HTTP parser, before the app sees anything: its own bare answer, no audit line. */
  | 'node';

/** What a case needs done before it is sent (see `arrange` in the test file). */
export type Arrangement = 'revoke-token' | 'reissue-token';

/** One row. Header values may hold `{placeholders}` for the run's tokens (see the test file). */
export interface HostileCase {
  name: string;
  method: string;
  path: string;
  /** Shorthand for `Authorization: Bearer` with the operator or viewer token. */
  auth?: 'operator' | 'viewer';
  headers?: ReadonlyArray<readonly [string, string]>;
  /** Text (sent as UTF-8), bytes as they are, or this many bytes streamed (sent chunked). */
  body?: string | Uint8Array<ArrayBuffer> | { streamBytes: number };
  /** Content-Type: application/json by default when there is a body; null sends none. */
  contentType?: string | null;
  /** Written byte for byte on a socket: for what fetch refuses to send or normalises away. */
  raw?: boolean;
  status: number;
  code?: string;
  /** Expected `Allow` header. */
  allow?: string;
  surface: Surface;
  arrange?: Arrangement;
}

const R = '/admin/keys/rotate';
const D = '/admin/keys/deactivate';
const S = '/admin/keys/sign';
const V = '/verify-signature';
const K = '/admin/deployments/default/keysets';
const DEV_KID = 'ts-2025-10-A';
/** 64 zero bytes in base64url: a well-formed signature that verifies nothing. */
const SIG = 'A'.repeat(86);

const OP = { auth: 'operator' } as const;
const json = (value: unknown): string => JSON.stringify(value);
const verify = (fields: Record<string, unknown>): string =>
  json({ payload: 'hello', signature: SIG, kid: DEV_KID, ...fields });
const bytes = (...parts: Array<string | number[]>): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : p)));
const auth = (value: string): Pick<HostileCase, 'headers'> => ({
  headers: [['Authorization', value]],
});

/** A case; the surface follows from the path unless given. */
function c(
  name: string,
  method: string,
  path: string,
  request: Omit<HostileCase, 'name' | 'method' | 'path' | 'status' | 'code' | 'surface'> & {
    surface?: Surface;
  },
  status: number,
  code?: string,
): HostileCase {
  const isPublic = path.startsWith('/.well-known/') || path.startsWith(V);
  return {
    name,
    method,
    path,
    surface: isPublic ? 'public' : 'admin',
    ...request,
    status,
    ...(code ? { code } : {}),
  };
}

// The rows stay one per line, as a table reads: Prettier would spread each over a dozen lines.

// prettier-ignore
const BAD_JSON: HostileCase[] = [
  c('bad JSON: an unterminated object', 'POST', R, { ...OP, body: '{' }, 400, 'invalid_request'),
  c('bad JSON: a member without a value', 'POST', R, { ...OP, body: '{"kid":' }, 400, 'invalid_request'),
  c('bad JSON: a truncated literal', 'POST', R, { ...OP, body: 'nul' }, 400, 'invalid_request'),
  c('bad JSON: trailing garbage', 'POST', R, { ...OP, body: '{}x' }, 400, 'invalid_request'),
  c('bad JSON: single quotes', 'POST', R, { ...OP, body: "{'kid':'a'}" }, 400, 'invalid_request'),
  c('bad JSON: a comment', 'POST', R, { ...OP, body: '{/* x */}' }, 400, 'invalid_request'),
  c('bad JSON: NaN', 'POST', S, { ...OP, body: '{"id":NaN}' }, 400, 'invalid_request'),
  c('bad JSON: invalid UTF-8 bytes', 'POST', R, { ...OP, body: bytes('{"kid":"', [0xff, 0xfe], '"}') }, 400, 'invalid_request'),
  c('bad JSON: an overlong UTF-8 "/"', 'POST', R, { ...OP, body: bytes('{"kid":"a', [0xc0, 0xaf], 'b"}') }, 400, 'invalid_request'),
  // RFC 8259 §8.1 lets a parser ignore one leading BOM; the decoder does, so this signs.
  c('bad JSON: one leading BOM is tolerated', 'POST', S, { ...OP, body: '\uFEFF{"id":"bom"}' }, 200),
  c('bad JSON: two leading BOMs', 'POST', S, { ...OP, body: '\uFEFF\uFEFF{"id":"bom"}' }, 400, 'invalid_request'),
  c('bad JSON: 2000-deep nested arrays in 4000 bytes', 'POST', R, { ...OP, body: '['.repeat(2000) + ']'.repeat(2000) }, 400, 'invalid_request'),
  c('bad JSON: 4000 unclosed arrays', 'POST', R, { ...OP, body: '['.repeat(4000) }, 400, 'invalid_request'),
  c('bad JSON: deep arrays on prepare', 'POST', K, { ...OP, body: '['.repeat(2000) + ']'.repeat(2000) }, 400, 'invalid_request'),
];

// prettier-ignore
const WRONG_TYPES: HostileCase[] = [
  c('wrong type: rotate body is an array', 'POST', R, { ...OP, body: '[]' }, 400, 'invalid_request'),
  c('wrong type: rotate body is a string', 'POST', R, { ...OP, body: '"str"' }, 400, 'invalid_request'),
  c('wrong type: rotate body is a number', 'POST', R, { ...OP, body: '1' }, 400, 'invalid_request'),
  c('wrong type: rotate body is null', 'POST', R, { ...OP, body: 'null' }, 400, 'invalid_request'),
  c('wrong type: kid is a number', 'POST', R, { ...OP, body: '{"kid":1}' }, 400, 'invalid_request'),
  c('wrong type: kid is an object', 'POST', R, { ...OP, body: '{"kid":{"id":"x"}}' }, 400, 'invalid_request'),
  c('wrong type: kid is an array', 'POST', R, { ...OP, body: '{"kid":["a"]}' }, 400, 'invalid_request'),
  c('wrong type: kid is a boolean', 'POST', R, { ...OP, body: '{"kid":true}' }, 400, 'invalid_request'),
  c('wrong type: delete is a string', 'POST', D, { ...OP, body: json({ kid: DEV_KID, delete: 'true' }) }, 400, 'invalid_request'),
  c('wrong type: deactivate without a kid', 'POST', D, { ...OP, body: '{}' }, 400, 'invalid_request'),
  c('wrong type: deactivate kid is a number', 'POST', D, { ...OP, body: '{"kid":7}' }, 400, 'invalid_request'),
  c('wrong type: sign id is a number', 'POST', S, { ...OP, body: '{"id":42}' }, 400, 'invalid_request'),
  c('wrong type: sign id is empty', 'POST', S, { ...OP, body: '{"id":""}' }, 400, 'invalid_request'),
  c('wrong type: sign id of 257 characters', 'POST', S, { ...OP, body: json({ id: 'i'.repeat(257) }) }, 400, 'invalid_request'),
  c('wrong type: an id smuggled under __proto__', 'POST', S, { ...OP, body: '{"__proto__":{"id":"x"}}' }, 400, 'invalid_request'),
  c('wrong type: verify payload is an object', 'POST', V, { body: verify({ payload: { a: 1 } }) }, 400, 'invalid_request'),
  c('wrong type: verify signature is a number', 'POST', V, { body: verify({ signature: 5 }) }, 400, 'invalid_request'),
  c('wrong type: prepare body is null', 'POST', K, { ...OP, body: 'null' }, 400, 'invalid_request'),
  c('wrong type: prepare kid is a number', 'POST', K, { ...OP, body: '{"kid":7}' }, 400, 'invalid_request'),
];

// prettier-ignore
const HUGE: HostileCase[] = [
  c('huge: a kid of 129 characters', 'POST', R, { ...OP, body: json({ kid: 'k'.repeat(129) }) }, 400, 'invalid_kid'),
  c('huge: a body of exactly 4096 bytes is read (and its kid refused)', 'POST', R, { ...OP, body: json({ kid: 'a'.repeat(4086) }) }, 400, 'invalid_kid'),
  c('huge: a body of 4097 bytes', 'POST', R, { ...OP, body: json({ kid: 'a'.repeat(4087) }) }, 413, 'payload_too_large'),
  c('huge: a streamed (chunked) body over 4096 bytes', 'POST', R, { ...OP, body: { streamBytes: 5000 } }, 413, 'payload_too_large'),
  c('huge: a declared Content-Length of 10^9', 'POST', R, { ...OP, raw: true, headers: [['Content-Length', '1000000000']], body: '{}' }, 413, 'payload_too_large'),
  c('huge: raw chunked body over 4096 bytes on verify', 'POST', V, { raw: true, headers: [['Transfer-Encoding', 'chunked']], body: `800\r\n${' '.repeat(2048)}\r\n`.repeat(3) + '0\r\n\r\n' }, 413, 'payload_too_large'),
  c('huge: a verify body of 4097 bytes', 'POST', V, { body: verify({ payload: 'p'.repeat(4097 - verify({ payload: '' }).length) }) }, 413, 'payload_too_large'),
  c('huge: a 10 KB bearer token', 'POST', R, { ...auth(`Bearer local-admin.${'t'.repeat(10_000)}`), body: '{}' }, 401, 'unauthorized'),
  c('huge: a 20 KB Authorization header (Node: 431)', 'POST', R, { ...auth(`Bearer local-admin.${'t'.repeat(20_000)}`), body: '{}', surface: 'node' }, 431),
  c('framing: Content-Length and Transfer-Encoding together (Node: 400)', 'POST', R, { raw: true, headers: [['Content-Length', '4'], ['Transfer-Encoding', 'chunked']], body: '0\r\n\r\n', surface: 'node' }, 400),
  c('framing: two different Content-Lengths (Node: 400)', 'POST', R, { raw: true, headers: [['Content-Length', '2'], ['Content-Length', '3']], body: '{}', surface: 'node' }, 400),
  c('framing: a negative Content-Length (Node: 400)', 'POST', R, { raw: true, headers: [['Content-Length', '-1']], body: '{}', surface: 'node' }, 400),
];

/** Kids that look like `ts-...` to a person but are not ASCII (or carry invisible characters). */
const UNICODE_KIDS: ReadonlyArray<readonly [string, string]> = [
  ['U+2010 hyphen', 'ts\u20102026-11-22'],
  ['full-width letters', '\uFF54\uFF53-2026-11-22'],
  ['zero-width joiner', 'ts-2026\u200D-11-22'],
  ['RTL override U+202E', 'ts-\u202E22-11-6202'],
  ['combining acute', 'ts-2026-11-2\u03012'],
  ['trailing NUL', 'ts-2026-11-22\u0000'],
  ['Cyrillic homoglyph а', 't\u0430-2026-11-22'],
  ['emoji', 'ts-\u{1F511}'],
];

// prettier-ignore
const UNICODE: HostileCase[] = [
  ...UNICODE_KIDS.map(([what, kid]) =>
    c(`unicode kid on rotate: ${what}`, 'POST', R, { ...OP, body: json({ kid }) }, 400, 'invalid_kid'),
  ),
  c('unicode kid on verify: Cyrillic А in the dev kid', 'POST', V, { body: verify({ kid: 'ts-2025-10-\u0410' }) }, 400, 'invalid_kid'),
  c('unicode kid on verify: RTL override', 'POST', V, { body: verify({ kid: `${DEV_KID}\u202E` }) }, 400, 'invalid_kid'),
  c('unicode kid on verify: full-width letters', 'POST', V, { body: verify({ kid: '\uFF54\uFF53-2025-10-A' }) }, 400, 'invalid_kid'),
  c('unicode kid on deactivate: zero-width joiner', 'POST', D, { ...OP, body: json({ kid: `${DEV_KID}\u200D` }) }, 400, 'invalid_kid'),
  c('unicode kid on delete: trailing NUL', 'POST', D, { ...OP, body: json({ kid: `${DEV_KID}\u0000`, delete: true }) }, 400, 'invalid_kid'),
  c('unicode kid in a keyset path: RTL override', 'POST', `${K}/ts-2025-10-%E2%80%AEA/activate`, OP, 400, 'invalid_kid'),
  c('unicode kid in a keyset path: full-width', 'DELETE', `${K}/%EF%BD%94s-2025-10-A`, OP, 400, 'invalid_kid'),
  c('reserved kid: rotate to "keyring"', 'POST', R, { ...OP, body: '{"kid":"keyring"}' }, 400, 'invalid_kid'),
  c('reserved kid: verify against "keyring"', 'POST', V, { body: verify({ kid: 'keyring' }) }, 404, 'keyset_not_found'),
  c('reserved kid: verify against "__proto__"', 'POST', V, { body: verify({ kid: '__proto__' }) }, 404, 'keyset_not_found'),
  // A lone surrogate is valid JSON; the signed payload carries it escaped, as plain ASCII.
  c('unicode id on sign: a lone surrogate is signed as data', 'POST', S, { ...OP, body: '{"id":"\\ud800"}' }, 200),
];

// prettier-ignore
const INJECTION: HostileCase[] = [
  c('header injection: CRLF in a rotate kid', 'POST', R, { ...OP, body: json({ kid: 'a\r\nX-Injected: 1' }) }, 400, 'invalid_kid'),
  c('header injection: CRLF in a deactivate kid', 'POST', D, { ...OP, body: json({ kid: 'a\r\nX-Injected: 1' }) }, 400, 'invalid_kid'),
  c('header injection: CRLF in a sign id stays JSON data', 'POST', S, { ...OP, body: json({ id: 'a\r\nX-Injected: 1' }) }, 200),
  c('header injection: a Latin-1 NEL in X-Request-Id is ignored', 'GET', '/.well-known/jwks.json', { headers: [['X-Request-Id', 'abc\x85X-Injected: 1']] }, 200),
  c('header injection: a 1000-character X-Request-Id is ignored', 'POST', R, { headers: [['X-Request-Id', 'r'.repeat(1000)]], body: '{}' }, 401, 'unauthorized'),
  c('header injection: a percent-encoded CRLF X-Request-Id is ignored', 'POST', R, { headers: [['X-Request-Id', 'a%0d%0aX-Injected:%201']], body: '{}' }, 401, 'unauthorized'),
  c('header injection: a bare CR in X-Request-Id (Node: 400)', 'GET', '/.well-known/jwks.json', { raw: true, headers: [['X-Request-Id', 'abc\rX-Injected: 1']], surface: 'node' }, 400),
  c('header injection: a bare LF in Authorization (Node: 400)', 'POST', S, { raw: true, headers: [['Authorization', 'Bearer {operator}\nX-Injected: 1']], body: '{"id":"a"}', surface: 'node' }, 400),
  c('header injection: Authorization folded onto a second line (Node: 400)', 'POST', S, { raw: true, headers: [['Authorization', 'Bearer\r\n {operator}']], body: '{"id":"a"}', surface: 'node' }, 400),
];

// Any spelling of a path that a server would have to normalise is refused before routing (one
// rule, src/http/canonical-path.ts), with or without a token, and audited if it reads as admin.
const NC = 'non_canonical_path';

// prettier-ignore
const PATHS: HostileCase[] = [
  c('path: trailing slash', 'POST', `${R}/`, { body: '{}' }, 400, NC),
  c('path: doubled slash', 'POST', '/admin//keys/rotate', { body: '{}' }, 400, NC),
  c('path: a leading doubled slash', 'POST', '//admin/keys/rotate', { raw: true, body: '{}' }, 400, NC),
  c('path: upper case is another path', 'POST', '/ADMIN/keys/rotate', { body: '{}' }, 404, 'not_found'),
  c('path: encoded trailing slash', 'POST', `${R}%2F`, { body: '{}' }, 400, NC),
  c('path: every slash encoded', 'POST', '/admin%2Fkeys%2Frotate', { body: '{}' }, 400, NC),
  c('path: double-encoded slash', 'POST', `${R}%252F`, { body: '{}' }, 400, NC),
  c('path: encoded backslash', 'POST', `${R}%5C`, { body: '{}' }, 400, NC),
  c('path: broken percent-encoding', 'POST', '/admin/keys/%E0%A4%A', { body: '{}' }, 400, NC),
  c('path: percent-encoding that is not UTF-8', 'DELETE', `${K}/%FF`, OP, 400, NC),
  c('path: lower-case percent-encoding', 'DELETE', `${K}/%ef%bd%94s-2025-10-A`, OP, 400, NC),
  c('path: encoded NUL is data, and matches no route', 'POST', `${R}%00`, { body: '{}' }, 404, 'not_found'),
  c('path: matrix parameter is data, and matches no route', 'POST', `${R};x=1`, { body: '{}' }, 404, 'not_found'),
  c('path: %61dmin spelling, no token', 'POST', '/%61dmin/keys/rotate', { body: '{}' }, 400, NC),
  c('path: %61dmin spelling, operator token', 'POST', '/%61dmin/keys/sign', { ...OP, body: '{"id":"enc"}' }, 400, NC),
  c('path: %72otate spelling, no token', 'POST', '/admin/keys/%72otate', { body: '{}' }, 400, NC),
  c('path: %73ign spelling, operator token', 'POST', '/admin/keys/%73ign', { ...OP, body: '{"id":"enc"}' }, 400, NC),
  c('path: a "." segment (unnormalised)', 'POST', '/admin/keys/./rotate', { raw: true, body: '{}' }, 400, NC),
  c('path: a "." segment, operator token', 'POST', '/admin/./keys/sign', { ...OP, raw: true, body: '{"id":"dot"}' }, 400, NC),
  c('path: a ".." segment (unnormalised)', 'POST', '/admin/x/../keys/rotate', { raw: true, body: '{}' }, 400, NC),
  c('path: a ".." segment into admin, operator token', 'POST', '/x/../admin/keys/sign', { ...OP, raw: true, body: '{"id":"dots"}' }, 400, NC),
  c('path: an encoded ".." segment', 'POST', '/admin/x/%2e%2e/keys/rotate', { raw: true, body: '{}' }, 400, NC),
  c('path: an upper-case encoded ".." segment', 'POST', '/admin/x/%2E%2E/keys/rotate', { raw: true, body: '{}' }, 400, NC),
  c('path: climbing out of /.well-known', 'POST', '/.well-known/../admin/keys/rotate', { raw: true, body: '{}', surface: 'admin' }, 400, NC),
  c('path: backslashes', 'POST', '/admin\\keys\\rotate', { raw: true, body: '{}' }, 400, NC),
  c('path: backslashes, operator token', 'POST', '/admin\\keys\\sign', { ...OP, raw: true, body: '{"id":"bs"}' }, 400, NC),
  c('path: absolute-form target, no token', 'POST', 'http://evil.example/admin/keys/rotate', { raw: true, body: '{}', surface: 'admin' }, 400, NC),
  c('path: absolute-form target, operator token', 'POST', 'http://evil.example/admin/keys/sign', { ...OP, raw: true, body: '{"id":"abs"}', surface: 'admin' }, 400, NC),
  c('path: absolute-form target on a public route', 'GET', 'http://127.0.0.1/.well-known/jwks.json', { raw: true, surface: 'other' }, 400, NC),
  c('path: a "." segment on a public route', 'GET', '/.well-known/./jwks.json', { raw: true, surface: 'other' }, 400, NC),
  c('path: asterisk-form target', 'OPTIONS', '*', { raw: true, surface: 'other' }, 400, NC),
];

// prettier-ignore
const METHODS: HostileCase[] = [
  c('method: PUT on rotate', 'PUT', R, { ...OP, allow: 'POST', body: '{}' }, 405, 'method_not_allowed'),
  c('method: PATCH on rotate', 'PATCH', R, { ...OP, allow: 'POST', body: '{}' }, 405, 'method_not_allowed'),
  c('method: DELETE on rotate', 'DELETE', R, { ...OP, allow: 'POST' }, 405, 'method_not_allowed'),
  c('method: GET on rotate', 'GET', R, { ...OP, allow: 'POST' }, 405, 'method_not_allowed'),
  c('method: HEAD on rotate', 'HEAD', R, { ...OP, allow: 'POST' }, 405),
  c('method: TRACE on rotate', 'TRACE', R, { ...OP, raw: true, allow: 'POST' }, 405, 'method_not_allowed'),
  c('method: PROPFIND on rotate, no token', 'PROPFIND', R, { raw: true }, 401, 'unauthorized'),
  c('method: an unknown method (Node: 400)', 'FOO', R, { raw: true, surface: 'node' }, 400),
  c('method: lower-case "post" (Node: 400)', 'post', R, { raw: true, body: '{}', surface: 'node' }, 400),
  c('method: OPTIONS on rotate, no token (no CORS)', 'OPTIONS', R, {}, 401, 'unauthorized'),
  c('method: OPTIONS on rotate, operator token', 'OPTIONS', R, { ...OP, allow: 'POST' }, 405, 'method_not_allowed'),
  c('method: POST on the JWKS', 'POST', '/.well-known/jwks.json', { allow: 'GET, HEAD', body: '{}' }, 405, 'method_not_allowed'),
  c('method: OPTIONS preflight on verify', 'OPTIONS', V, {}, 204),
];

// prettier-ignore
const CONTENT_TYPES: HostileCase[] = [
  // Trusted Server's scripts label JSON as curl does (`-d` sends form-urlencoded) or not at all:
  // read as JSON. Fields are not JSON and are refused; multipart and other types stay 415.
  c('content type: text/plain with a JSON body (a script) is read as JSON', 'POST', S, { ...OP, contentType: 'text/plain', body: '{"id":"a"}' }, 200),
  c('content type: curl -d (form-urlencoded) with a JSON body is read as JSON', 'POST', S, { ...OP, contentType: 'application/x-www-form-urlencoded', body: '{"id":"a"}' }, 200),
  c('content type: a form post with form fields', 'POST', R, { ...OP, contentType: 'application/x-www-form-urlencoded', body: 'kid=x' }, 400, 'invalid_request'),
  c('content type: multipart with a JSON-looking body', 'POST', R, { ...OP, contentType: 'multipart/form-data; boundary=x', body: '{"kid":"x"}' }, 415, 'unsupported_media_type'),
  c('content type: application/jsonx', 'POST', R, { ...OP, contentType: 'application/jsonx', body: '{}' }, 415, 'unsupported_media_type'),
  c('content type: text/json', 'POST', R, { ...OP, contentType: 'text/json', body: '{}' }, 415, 'unsupported_media_type'),
  c('content type: text/plain on verify from a script', 'POST', V, { contentType: 'text/plain', body: verify({}) }, 200),
  c('content type: text/plain on verify from another site', 'POST', V, { contentType: 'text/plain', body: verify({}), headers: [['Origin', 'https://attacker.example']] }, 403, 'cross_site_request'),
  // The empty POST a cross-site <form> sends (with Basic credentials a browser cached after the
  // WWW-Authenticate prompt) must not reach the route: the browser says where it comes from.
  c('content type: an empty cross-site form post with Basic credentials', 'POST', R, { headers: [['Authorization', 'Basic {operatorBasic}'], ['Origin', 'https://attacker.example']], contentType: 'application/x-www-form-urlencoded', body: '' }, 403, 'cross_site_request'),
  c('content type: an empty cross-site text/plain post on a key set transition', 'POST', `${K}/csrf-target/taint`, { headers: [['Authorization', 'Basic {operatorBasic}'], ['Sec-Fetch-Site', 'cross-site']], contentType: 'text/plain', body: '' }, 403, 'cross_site_request'),
  c('content type: application/json with a charset is accepted', 'POST', S, { ...OP, contentType: 'application/json; charset=utf-8', body: '{"id":"a"}' }, 200),
  c('content type: a +json type is accepted', 'POST', S, { ...OP, contentType: 'application/merge-patch+json', body: '{"id":"a"}' }, 200),
  c('content type: upper case is accepted', 'POST', S, { ...OP, contentType: 'APPLICATION/JSON', body: '{"id":"a"}' }, 200),
  c('content type: none is accepted', 'POST', S, { ...OP, contentType: null, body: '{"id":"a"}' }, 200),
];

// prettier-ignore
const TOKENS: HostileCase[] = [
  c('token: right id, wrong secret', 'POST', R, { ...auth(`Bearer local-admin.${'A'.repeat(43)}`), body: '{}' }, 401, 'unauthorized'),
  c('token: right secret, wrong id', 'POST', R, { ...auth('Bearer nobody.{operatorSecret}'), body: '{}' }, 401, 'unauthorized'),
  c('token: secret with one character changed', 'POST', R, { ...auth('Bearer {operatorFlipped}'), body: '{}' }, 401, 'unauthorized'),
  c('token: the stored hash presented as the secret', 'POST', R, { ...auth('Bearer local-admin.{operatorHash}'), body: '{}' }, 401, 'unauthorized'),
  c('token: replayed after its entry was deleted', 'POST', R, { ...auth('Bearer {revoked}'), body: '{}', arrange: 'revoke-token' }, 401, 'unauthorized'),
  c('token: the old secret of a re-issued id', 'POST', R, { ...auth('Bearer {reissuedOld}'), body: '{}', arrange: 'reissue-token' }, 401, 'unauthorized'),
  c('token: viewer on rotate', 'POST', R, { auth: 'viewer', body: '{}' }, 403, 'forbidden'),
  c('token: viewer on prepare, refused before the bad body is read', 'POST', K, { auth: 'viewer', body: '{' }, 403, 'forbidden'),
  c('token: viewer on remove', 'DELETE', `${K}/${DEV_KID}`, { auth: 'viewer' }, 403, 'forbidden'),
  c('token: viewer may list', 'GET', K, { auth: 'viewer' }, 200),
  c('token: Basic with bad base64', 'POST', R, { ...auth('Basic !!!not-base64!!!'), body: '{}' }, 401, 'unauthorized'),
  c('token: Basic without a colon', 'POST', R, { ...auth(`Basic ${btoa('local-admin')}`), body: '{}' }, 401, 'unauthorized'),
  c('token: Bearer without a dot', 'POST', R, { ...auth('Bearer localadminnodot'), body: '{}' }, 401, 'unauthorized'),
  c('token: Bearer with two tokens', 'POST', R, { ...auth('Bearer {operator} Bearer {operator}'), body: '{}' }, 401, 'unauthorized'),
  c('token: Bearer twice, comma-joined', 'POST', R, { ...auth('Bearer {operator}, Bearer {operator}'), body: '{}' }, 401, 'unauthorized'),
  c('token: an id named __proto__', 'POST', R, { ...auth('Bearer __proto__.{operatorSecret}'), body: '{}' }, 401, 'unauthorized'),
  c('token: an empty Authorization header', 'POST', R, { ...auth(''), body: '{}' }, 401, 'unauthorized'),
  c('token: the Digest scheme', 'POST', R, { ...auth('Digest username="local-admin"'), body: '{}' }, 401, 'unauthorized'),
  c('token: forged first, valid second (Node keeps the first)', 'POST', R, { raw: true, headers: [['Authorization', `Bearer local-admin.${'A'.repeat(43)}`], ['Authorization', 'Bearer {operator}']], body: '{}' }, 401, 'unauthorized'),
  // RFC 9110 §11.1: auth schemes are case-insensitive.
  c('token: lower-case "bearer" is accepted', 'POST', S, { ...auth('bearer {operator}'), body: '{"id":"a"}' }, 200),
  c('token: mixed-case "bAsIc" is accepted', 'POST', S, { ...auth('bAsIc {operatorBasic}'), body: '{"id":"a"}' }, 200),
];

// prettier-ignore
const PRECONDITIONS_AND_ROUTES: HostileCase[] = [
  c('If-Match: not a version', 'POST', R, { ...OP, headers: [['If-Match', '"abc"']], body: '{}' }, 400, 'invalid_request'),
  c('If-Match: 16 digits', 'POST', R, { ...OP, headers: [['If-Match', '"1234567890123456"']], body: '{}' }, 400, 'invalid_request'),
  c('If-Match: a version from the future', 'POST', R, { ...OP, headers: [['If-Match', '"999999"']], body: '{}' }, 412, 'keyring_version_mismatch'),
  c('route: deployment named __proto__', 'GET', '/admin/deployments/__proto__/keysets', OP, 404, 'deployment_not_found'),
  c('route: key set action named __proto__', 'POST', `${K}/${DEV_KID}/__proto__`, OP, 404, 'not_found'),
  c('route: key set action named constructor', 'POST', `${K}/${DEV_KID}/constructor`, OP, 404, 'not_found'),
  c('verify: a 3-byte signature', 'POST', V, { body: verify({ signature: 'AAAA' }) }, 400, 'invalid_request'),
];

/** Every row, in the order they run. */
export const HOSTILE_CASES: readonly HostileCase[] = [
  ...BAD_JSON,
  ...WRONG_TYPES,
  ...HUGE,
  ...UNICODE,
  ...INJECTION,
  ...PATHS,
  ...METHODS,
  ...CONTENT_TYPES,
  ...TOKENS,
  ...PRECONDITIONS_AND_ROUTES,
];
