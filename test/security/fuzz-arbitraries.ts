// fast-check generators for whole requests to the app: mostly hostile (any method, a known route
// mangled by case flips, percent-encoding, extra slashes and dot segments, any credential, any
// content type, any body), with some valid mutations and reads so the stores do move.
import fc from 'fast-check';
import { ROUTES as APP_ROUTES } from '../../src/http/routes.js';
import { KEYSET_ACTIONS, KEYSET_OPERATIONS } from '../../src/core/keyring/transitions.js';

/** Methods the fuzz sends; TRACE included although Node's `Request` refuses to build one. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

/** The credential a request carries; only `bearer` and `basic` are a valid operator. */
export type AuthChoice =
  | { kind: 'none' | 'bearer' | 'basic' | 'viewer' }
  | { kind: 'forged'; secret: string }
  | { kind: 'random'; value: string };

/** One generated request, before the run's tokens are filled in. */
export interface FuzzCase {
  method: string;
  path: string;
  auth: AuthChoice;
  contentType: string | null;
  body: string | Uint8Array<ArrayBuffer> | null;
  ifMatch: string | null;
  requestId: string | null;
  declaredLength: string | null;
}

/** Kids that valid mutations reuse, so taint/deactivate/remove sometimes find their key set. */
const KID_POOL = ['ts-2025-10-A', 'fuzz-a', 'fuzz-b', 'fuzz-c'];

/**
 * Every route of the app, from its route table (`:deployment`, `:id`, `:action` become the
 * placeholders below), so a route added later is fuzzed without anyone remembering to list it.
 */
const ROUTES = APP_ROUTES.map((r) =>
  r.pattern.replace(':deployment', '{d}').replace(':id', '{id}').replace(':action', '{action}'),
);

/** Header-safe text: what an HTTP client can put in a field value (Latin-1, no CR/LF/NUL). */
const headerText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)),
      fc.integer({ min: 0x80, max: 0xff }).map((n) => String.fromCharCode(n)),
    ),
    maxLength,
  });

function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text; // a lone surrogate: the URL parser turns it into U+FFFD itself
  }
}

const segment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'default',
    ...KID_POOL,
    '__proto__',
    'constructor',
    '..',
    '.',
    '',
    '%2F',
    '%252F',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }).map(encodeSegment),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map(encodeSegment),
  // Unencoded: `?`, `#`, `/`, `\` and spaces change the path's structure, as a careless client would.
  fc.string({ unit: 'binary-ascii', maxLength: 12 }),
);

const routePath: fc.Arbitrary<string> = fc
  .record({
    route: fc.constantFrom(...ROUTES),
    d: fc.oneof({ weight: 3, arbitrary: fc.constant('default') }, segment),
    id: segment,
    action: fc.oneof(fc.constantFrom(...KEYSET_ACTIONS), segment),
  })
  .map(({ route, d, id, action }) =>
    route.replace('{d}', d).replace('{id}', id).replace('{action}', action),
  );

type Mutation = { op: (typeof MUTATIONS)[number]; at: number };
const MUTATIONS = [
  'flipCase',
  'encode',
  'doubleEncode',
  'extraSlash',
  'trailingSlash',
  'dotSegment',
  'dotDotSegment',
  'matrix',
  'query',
] as const;

/** Applies one spelling trick at a position (taken modulo the path's length). */
export function mutatePath(path: string, { op, at }: Mutation): string {
  const i = path.length > 0 ? at % path.length : 0;
  const ch = path[i] ?? '';
  const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
  const code = ch.charCodeAt(0);
  const slash = Math.max(0, path.lastIndexOf('/', i));
  switch (op) {
    case 'flipCase': {
      const flipped = ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
      return path.slice(0, i) + flipped + path.slice(i + 1);
    }
    case 'encode':
      return code < 0x80 ? `${path.slice(0, i)}%${hex}${path.slice(i + 1)}` : path;
    case 'doubleEncode':
      return code < 0x80 ? `${path.slice(0, i)}%25${hex}${path.slice(i + 1)}` : path;
    case 'extraSlash':
      return `${path.slice(0, slash)}/${path.slice(slash)}`;
    case 'trailingSlash':
      return `${path}/`;
    case 'dotSegment':
      return `${path.slice(0, slash)}/.${path.slice(slash)}`;
    case 'dotDotSegment':
      return `${path.slice(0, slash)}/x/..${path.slice(slash)}`;
    case 'matrix':
      return `${path};x=1`;
    case 'query':
      return `${path}?kid=evil&x=%ff`;
  }
}

const mutatedPath: fc.Arbitrary<string> = fc
  .tuple(
    routePath,
    fc.array(fc.record({ op: fc.constantFrom(...MUTATIONS), at: fc.nat() }), { maxLength: 3 }),
  )
  .map(([path, mutations]) => mutations.reduce(mutatePath, path));

const authChoice: fc.Arbitrary<AuthChoice> = fc.oneof(
  fc.constantFrom<AuthChoice>(
    { kind: 'none' },
    { kind: 'bearer' },
    { kind: 'basic' },
    { kind: 'viewer' },
  ),
  fc
    .stringMatching(/^[A-Za-z0-9_-]{16,64}$/)
    .map((secret): AuthChoice => ({ kind: 'forged', secret })),
  headerText(80).map((value): AuthChoice => ({ kind: 'random', value })),
);

const contentType: fc.Arbitrary<string | null> = fc.oneof(
  fc.constantFrom(null, 'application/json', 'text/plain', 'application/merge-patch+json'),
  headerText(40),
);

/** Kid-like strings with the Unicode tricks a person would not see. */
const trickyKid: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('ts-2025-10-A', 'fuzz-a', 'ts-2026-11-22'),
    fc.constantFrom(
      '\u2010',
      '\uFF41',
      '\u200D',
      '\u202E',
      '\u0301',
      '\u0000',
      '\u0430',
      '\r\n',
      '\u{1F511}',
    ),
    fc.nat(),
  )
  .map(([kid, trick, at]) => {
    const i = at % (kid.length + 1);
    return kid.slice(0, i) + trick + kid.slice(i);
  });

/** A JSON value of any type, or one of the strings the routes care about. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 140 }),
  trickyKid,
  fc.constantFrom(...KID_POOL, 'keyring', 'A'.repeat(86), true, false, null),
);

const body: fc.Arbitrary<string | Uint8Array<ArrayBuffer> | null> = fc.oneof(
  fc.constant(null),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        kid: fieldValue,
        delete: fieldValue,
        id: fieldValue,
        payload: fieldValue,
        signature: fieldValue,
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => new Uint8Array(b)),
  fc.integer({ min: 4097, max: 12_000 }).map((n) => JSON.stringify({ kid: 'k'.repeat(n) })),
);

const hostile: fc.Arbitrary<FuzzCase> = fc.record({
  method: fc.constantFrom(...METHODS),
  path: fc.oneof(fc.constantFrom(...ROUTES.filter((r) => !r.includes('{'))), mutatedPath),
  auth: authChoice,
  contentType,
  body,
  ifMatch: fc.option(fc.oneof(fc.constantFrom('"0"', '"999"', '*'), headerText(20)), {
    nil: null,
    freq: 6,
  }),
  requestId: fc.option(headerText(80), { nil: null, freq: 4 }),
  declaredLength: fc.option(fc.constantFrom('0', '1', '4097', '1000000000', '-1', 'abc'), {
    nil: null,
    freq: 8,
  }),
});

const newKid = fc.oneof(
  fc.constantFrom(...KID_POOL),
  fc.stringMatching(/^[a-z][a-z0-9._-]{0,24}$/),
);

const plain = {
  contentType: 'application/json',
  ifMatch: null,
  requestId: null,
  declaredLength: null,
};

/** Requests an operator would send: they may change the stores. */
const validMutation: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc
    .record({
      path: fc.constantFrom(
        '/admin/keys/rotate',
        '/_ts/admin/keys/rotate',
        '/admin/deployments/default/keysets',
      ),
      auth: fc.constantFrom<AuthChoice>({ kind: 'bearer' }, { kind: 'basic' }),
      body: fc.oneof(
        fc.constant('{}'),
        newKid.map((kid) => JSON.stringify({ kid })),
      ),
    })
    .map((r): FuzzCase => ({ ...plain, method: 'POST', ...r })),
  fc
    .tuple(fc.constantFrom(...KID_POOL), fc.constantFrom(...KEYSET_OPERATIONS))
    .map(([kid, action]): FuzzCase => ({
      ...plain,
      method: action === 'remove' ? 'DELETE' : 'POST',
      path: `/admin/deployments/default/keysets/${kid}${action === 'remove' ? '' : `/${action}`}`,
      auth: { kind: 'bearer' },
      body: null,
    })),
);

/** Reads and signing: never change the stores. */
const validRead: fc.Arbitrary<FuzzCase> = fc.oneof(
  fc
    .constantFrom('/.well-known/jwks.json', '/.well-known/trusted-server.json')
    .map((path): FuzzCase => ({
      ...plain,
      method: 'GET',
      path,
      auth: { kind: 'none' },
      body: null,
    })),
  fc.string({ minLength: 1, maxLength: 40 }).map((id): FuzzCase => ({
    ...plain,
    method: 'POST',
    path: '/admin/keys/sign',
    auth: { kind: 'bearer' },
    body: JSON.stringify({ id }),
  })),
  fc.constant<FuzzCase>({
    ...plain,
    method: 'GET',
    path: '/admin/deployments/default/keysets',
    auth: { kind: 'viewer' },
    body: null,
  }),
);

/** A well-formed request to a real route, mostly with the operator's token: a hostile body. */
const hostileBody: fc.Arbitrary<FuzzCase> = fc.record({
  method: fc.oneof({ weight: 5, arbitrary: fc.constant('POST') }, fc.constantFrom(...METHODS)),
  path: fc.oneof(
    fc.constantFrom(
      '/admin/keys/rotate',
      '/admin/keys/deactivate',
      '/admin/keys/sign',
      '/verify-signature',
      '/admin/deployments/default/keysets',
    ),
    fc
      .tuple(fc.oneof(fc.constantFrom(...KID_POOL), trickyKid), fc.constantFrom(...KEYSET_ACTIONS))
      .map(([kid, action]) => `/admin/deployments/default/keysets/${encodeSegment(kid)}/${action}`),
  ),
  auth: fc.oneof({ weight: 4, arbitrary: fc.constant<AuthChoice>({ kind: 'bearer' }) }, authChoice),
  contentType: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, contentType),
  body,
  ifMatch: fc.option(fc.oneof(fc.constantFrom('"0"', '"999"', '*'), headerText(20)), {
    nil: null,
    freq: 8,
  }),
  requestId: fc.constant(null),
  declaredLength: fc.constant(null),
});

/** The request mix: mostly hostile, some valid mutations and reads. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 8, arbitrary: hostile },
  { weight: 8, arbitrary: hostileBody },
  { weight: 2, arbitrary: validMutation },
  { weight: 2, arbitrary: validRead },
);

/** The tokens a run fills in. */
export interface FuzzTokens {
  operatorId: string;
  operatorSecret: string;
  viewer: string;
}

/** True when the request carries the valid operator credential. */
export function isOperator(c: FuzzCase): boolean {
  return c.auth.kind === 'bearer' || c.auth.kind === 'basic';
}

/** Builds the Fetch `Request` the platform would hand the app. */
export function buildRequest(c: FuzzCase, tokens: FuzzTokens): Request {
  const headers = new Headers();
  const authorization = authHeader(c.auth, tokens);
  if (authorization !== null) headers.set('authorization', authorization);
  if (c.contentType !== null) headers.set('content-type', c.contentType);
  if (c.ifMatch !== null) headers.set('if-match', c.ifMatch);
  if (c.requestId !== null) headers.set('x-request-id', c.requestId);
  if (c.declaredLength !== null) headers.set('content-length', c.declaredLength);
  const bodyless = c.method === 'GET' || c.method === 'HEAD';
  // Node's `Request` refuses to build a TRACE; a platform can still hand one over (node:http
  // parses it), so build it as POST and pose as TRACE.
  const method = c.method === 'TRACE' ? 'POST' : c.method;
  const request = new Request(`http://localhost${c.path.startsWith('/') ? '' : '/'}${c.path}`, {
    method,
    headers,
    ...(bodyless || c.body === null ? {} : { body: c.body }),
  });
  if (c.method === 'TRACE') Object.defineProperty(request, 'method', { value: 'TRACE' });
  return request;
}

function authHeader(auth: AuthChoice, t: FuzzTokens): string | null {
  switch (auth.kind) {
    case 'none':
      return null;
    case 'bearer':
      return `Bearer ${t.operatorId}.${t.operatorSecret}`;
    case 'basic':
      return `Basic ${btoa(`${t.operatorId}:${t.operatorSecret}`)}`;
    case 'viewer':
      return `Bearer ${t.viewer}`;
    case 'forged':
      return `Bearer ${t.operatorId}.${auth.secret}`;
    case 'random':
      return auth.value;
  }
}
