// Reads a Trusted Server v1.1 payload without trusting JSON.parse's leniency: JSON.parse keeps
// the last of duplicate members, so `{"host":"a","host":"b"}` would be read differently by
// different parsers. The payload is a flat object, so a small strict reader is enough.

/** The members of a v1.1 payload, as signed. `ts` is Unix time in milliseconds. */
export interface SignedPayload {
  version: '1.1';
  kid: string;
  host: string;
  scheme: 'https';
  id: string;
  ts: number;
}

/** Why a payload text is not a v1.1 payload. */
export type PayloadProblem =
  'malformed_payload' | 'duplicate_member' | 'unsupported_version' | 'invalid_kid';

export type PayloadRead =
  { ok: true; payload: SignedPayload } | { ok: false; reason: PayloadProblem; detail: string };

const MEMBERS = ['version', 'kid', 'host', 'scheme', 'id', 'ts'] as const;
/** Longest kid the verifier looks up (the service allows 128 characters). */
export const MAX_KID_LENGTH = 128;

// One JSON string or number token at the start of the rest of the text (RFC 8259 grammar).
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings.
const STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
const LITERAL = /^(?:true|false|null)/;
const WS = /^[ \t\n\r]*/;

const fail = (reason: PayloadProblem, detail: string): PayloadRead => ({
  ok: false,
  reason,
  detail,
});

/** Reads the members of a flat JSON object, refusing nesting and duplicate names. */
function readFlatObject(text: string): Map<string, unknown> | PayloadRead {
  const members = new Map<string, unknown>();
  let rest = text.replace(WS, '');
  const skip = (): void => {
    rest = rest.replace(WS, '');
  };
  const take = (re: RegExp): string | null => {
    const m = re.exec(rest);
    if (!m) return null;
    rest = rest.slice(m[0].length);
    skip();
    return m[0];
  };
  if (!rest.startsWith('{')) return fail('malformed_payload', 'payload is not a JSON object');
  rest = rest.slice(1);
  skip();
  if (rest.startsWith('}')) {
    rest = rest.slice(1);
  } else {
    for (;;) {
      const name = take(STRING);
      if (name === null) return fail('malformed_payload', 'payload is not a flat JSON object');
      if (!rest.startsWith(':')) return fail('malformed_payload', 'payload is not valid JSON');
      rest = rest.slice(1);
      skip();
      const value = take(STRING) ?? take(NUMBER) ?? take(LITERAL);
      if (value === null) return fail('malformed_payload', 'payload members must be scalars');
      const key = JSON.parse(name) as string;
      if (members.has(key)) return fail('duplicate_member', `payload repeats member "${key}"`);
      members.set(key, JSON.parse(value));
      if (rest.startsWith(',')) {
        rest = rest.slice(1);
        skip();
        continue;
      }
      if (rest.startsWith('}')) {
        rest = rest.slice(1);
        break;
      }
      return fail('malformed_payload', 'payload is not valid JSON');
    }
  }
  if (rest.replace(WS, '') !== '') return fail('malformed_payload', 'text after the JSON object');
  return members;
}

/** Reads `text` as a Trusted Server v1.1 payload: exactly its six members, of their types. */
export function readPayload(text: string): PayloadRead {
  const members = readFlatObject(text);
  if (!(members instanceof Map)) return members;
  const version = members.get('version');
  if (version !== '1.1') {
    return fail('unsupported_version', 'payload version is not "1.1"');
  }
  for (const name of members.keys()) {
    if (!(MEMBERS as readonly string[]).includes(name))
      return fail('malformed_payload', 'payload has a member v1.1 does not define');
  }
  const kid = members.get('kid');
  const host = members.get('host');
  const scheme = members.get('scheme');
  const id = members.get('id');
  const ts = members.get('ts');
  if (typeof kid !== 'string') return fail('invalid_kid', 'payload kid is not a string');
  if (kid.length === 0 || kid.length > MAX_KID_LENGTH)
    return fail('invalid_kid', `payload kid must be 1-${MAX_KID_LENGTH} characters`);
  if (typeof host !== 'string') return fail('malformed_payload', 'payload host is not a string');
  if (scheme !== 'https') return fail('malformed_payload', 'payload scheme is not "https"');
  if (typeof id !== 'string') return fail('malformed_payload', 'payload id is not a string');
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0)
    return fail('malformed_payload', 'payload ts is not a non-negative integer of milliseconds');
  return { ok: true, payload: { version, kid, host, scheme, id, ts } };
}
