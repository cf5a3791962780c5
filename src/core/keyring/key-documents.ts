// The public key documents (the JWKS and Trusted Server's discovery document), rendered once when
// a change commits and stored as config items beside the keyring, so the hot path serves them as
// stored: one read of the document item and one of `active-kids`, no keyring parse. Each item
// carries its ETag and the `active-kids` value it was rendered against; when Trusted Server's
// `active-kids` no longer says the same (its own tools changed the store, or a bulk update applied
// only in part), the edge ignores the item and falls back to reading the keyring.
import { sha256Hex } from '../auth/admin-token.js';
import { formatActiveKids } from '../keys/active-kids.js';
import type { PublicJwk } from '../keys/jwk.js';
import {
  MAX_KEYRING_CHARS,
  PUBLISHED_STATES,
  type Keyring,
  type KeyLogRoot,
  type KeysetState,
} from './document.js';
import { taintCutoffs, type TaintFields } from './taint-cutoff.js';

/** Config item keys of the stored documents (reserved: no kid may take them). */
export const DOCUMENT_ITEM_KEYS = {
  jwks: 'jwks-document',
  discovery: 'discovery-document',
} as const;

/** Which document. */
export type KeyDocumentKind = keyof typeof DOCUMENT_ITEM_KEYS;

/** What a document is rendered from: a keyring version and its key sets, in keyring order. */
export interface KeyDocumentSource {
  /** The keyring version, or null for a store written only by Trusted Server's tools. */
  version: number | null;
  keysets: ReadonlyArray<
    { id: string; state: KeysetState; jwk: PublicJwk; endorsed_at?: string } & TaintFields
  >;
  /** The key log's root (docs/key-log.md); absent or null: no log, every key unendorsed. */
  key_log?: KeyLogRoot | undefined;
}

/**
 * A document source from what the stores serve (`keysets`, Trusted Server's items folded in) and
 * the stored keyring: a key set counts as endorsed only when the keyring marks it and its `x` is
 * the one served (a JWK someone replaced is not the key that was endorsed).
 */
export function endorsedSource(
  version: number | null,
  keysets: ReadonlyArray<{ id: string; state: KeysetState; jwk: PublicJwk } & TaintFields>,
  keyring: Keyring | null | undefined,
): KeyDocumentSource {
  const marked = new Map(
    (keyring?.keysets ?? [])
      .filter((k) => k.endorsed_at !== undefined)
      .map((k) => [k.id, k] as const),
  );
  return {
    version,
    keysets: keysets.map((k) => {
      const m = marked.get(k.id);
      return m && m.jwk.x === k.jwk.x && m.endorsed_at ? { ...k, endorsed_at: m.endorsed_at } : k;
    }),
    ...(keyring?.key_log ? { key_log: keyring.key_log } : {}),
  };
}

/** The body of a document: for discovery `version` and `jwks` are exactly Trusted Server's. */
export function keyDocumentBody(kind: KeyDocumentKind, source: KeyDocumentSource): string {
  const published = source.keysets.filter((k) => PUBLISHED_STATES.has(k.state));
  const keys = published.map((k) => k.jwk);
  if (kind === 'jwks') return JSON.stringify({ keys });
  return JSON.stringify({
    version: '1.0',
    jwks: { keys },
    keyring_version: source.version,
    tainted_kids: published.filter((k) => k.state === 'TAINTED').map((k) => k.id),
    // Each tainted kid's cutoff (docs/taint-cutoff.md): its payloads verify only with `ts` before it.
    taint_cutoffs: taintCutoffs(published),
    // The key log (docs/key-log.md): extra members only, Trusted Server's stay as they are.
    key_log: source.key_log
      ? { root_kid: source.key_log.root_kid, root_fingerprint: source.key_log.root_fingerprint }
      : null,
    unendorsed_kids: published.filter((k) => k.endorsed_at === undefined).map((k) => k.id),
  });
}

/**
 * The ETag of a document the keyring version cannot name (a Trusted Server–only store, or its
 * items drifted from the keyring): a hash of the body. `If-Match` takes it as well as a version.
 */
export async function contentEtag(body: string): Promise<string> {
  return `"h${(await sha256Hex(body)).slice(0, 20)}"`;
}

/** The ETag of a keyring version's documents. */
export function versionEtag(version: number): string {
  return `"${version}"`;
}

/** A stored document as the hot path reads it. */
export interface StoredDocument {
  etag: string;
  /** When the schedule next changes the keyring (ms), or null: the max-age is capped to it. */
  nextTransitionAtMs: number | null;
  /** The `active-kids` value the document was rendered against. */
  activeKids: string;
  body: string;
}

/**
 * The config item holding a document (`<etag>[ <next transition ms>]\n<active-kids>\n<body>`:
 * neither an ETag, a kid list nor compact JSON contains a newline), or null when it would exceed
 * Fastly's 8,000-character item limit: then no item is stored and the edge reads the keyring
 * instead. The next transition's time rides on the ETag's line so the edge caps max-age with it
 * without parsing the keyring.
 */
export function renderDocumentItem(
  kind: KeyDocumentKind,
  source: KeyDocumentSource & { version: number },
  nextTransitionAtMs: number | null = null,
): string | null {
  const published = source.keysets.filter((k) => PUBLISHED_STATES.has(k.state)).map((k) => k.id);
  const next = nextTransitionAtMs === null ? '' : ` ${Math.floor(nextTransitionAtMs)}`;
  const value = `${versionEtag(source.version)}${next}\n${formatActiveKids(published)}\n${keyDocumentBody(kind, source)}`;
  return value.length > MAX_KEYRING_CHARS ? null : value;
}

/** Splits a document item; null when it is not one (then the edge reads the keyring). */
export function parseDocumentItem(value: string): StoredDocument | null {
  const first = value.indexOf('\n');
  const second = first < 0 ? -1 : value.indexOf('\n', first + 1);
  if (second < 0) return null;
  // Items written before the schedule existed have the ETag alone on the line.
  const head = /^("[^"\n ]*")(?: (\d{1,16}))?$/.exec(value.slice(0, first));
  if (!head?.[1]) return null;
  return {
    etag: head[1],
    nextTransitionAtMs: head[2] === undefined ? null : Number(head[2]),
    activeKids: value.slice(first + 1, second),
    body: value.slice(second + 1),
  };
}
