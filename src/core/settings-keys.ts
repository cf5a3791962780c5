// Which keys of a settings file this project owns, which it leaves to Trusted Server, and which are
// mistakes. The file may be Trusted Server's own `trusted-server.toml`: its sections are ignored
// (and listed), while a key this project does not know inside a section it owns is refused with the
// nearest known key, so a typo never falls back to a default unnoticed. Known keys come from the
// zod schema itself, so a section added there is owned (and checked) with no list to update.

/**
 * Trusted Server's top-level sections (its `Settings` struct in
 * crates/trusted-server-core/src/settings.rs). Sections this project does not read are ignored;
 * a section of a later Trusted Server that is missing here is ignored too, unless its name is one
 * typo away from a section this project owns.
 */
export const TRUSTED_SERVER_SECTIONS: readonly string[] = [
  'publisher',
  'tester_cookie',
  'ec',
  'integrations',
  'handlers',
  'response_headers',
  'request_signing',
  'rewrite',
  'auction',
  'consent',
  'cache',
  'proxy',
  'creative_opportunities',
  'image_optimizer',
  'tinybird',
  'debug',
];

/**
 * The keys Trusted Server defines in the two sections both projects read (its `Publisher` and
 * `RequestSigning` structs, both `deny_unknown_fields`). Accepted here; those this project does not
 * use are ignored. Anything else in these sections would be refused by Trusted Server as well.
 */
export const TRUSTED_SERVER_KEYS: Readonly<Record<string, readonly string[]>> = {
  publisher: [
    'domain',
    'cookie_domain',
    'origin_url',
    'origin_host_header_override',
    'proxy_secret',
    'max_buffered_body_bytes',
  ],
  request_signing: ['enabled', 'config_store_id', 'secret_store_id'],
};

/** A key the file has and no section of this project knows. */
export interface UnknownKey {
  /** Dotted path (`admin.requests_per_minut`), or `[name]` for a whole section. */
  path: string;
  /** The nearest known key or section, when one is close enough to be the one meant. */
  suggestion?: string;
  /** Every key the enclosing section takes (for the message when nothing is close). */
  known: readonly string[];
  /** Named like a credential (`api_token`, `password`, ...): it gets the secrets message. */
  secret: boolean;
}

/** What a settings file holds besides this project's settings. */
export interface KeyReport {
  /** Paths this project leaves alone (Trusted Server's), in file order: `[ec]`, `publisher.origin_url`. */
  ignored: string[];
  /** Mistakes in sections this project owns. */
  unknown: UnknownKey[];
}

// Key names that say "credential". Checked only on keys no section knows: a known key such as
// fastly_api.secret_signing_key (a public key) or Trusted Server's proxy_secret is never flagged.
const SECRET_NAME = /token|secret|passw(or)?d|passphrase|private|credential|api_?key/i;

// The slice of zod's internal definition the walk needs (zod v4 core, also behind zod/mini).
interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      innerType?: SchemaNode;
      valueType?: SchemaNode;
      in?: SchemaNode;
    };
  };
}
const WRAPPERS: ReadonlySet<string> = new Set([
  'optional',
  'default',
  'prefault',
  'nullable',
  'nonoptional',
  'readonly',
  'catch',
]);

/** The schema under optional/default/... wrappers and on the input side of a pipe. */
function unwrap(node: SchemaNode): SchemaNode {
  let current = node;
  for (;;) {
    const def = current._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a top-level entry reads in a TOML file, for the ignored list. */
function sectionLabel(key: string, value: unknown): string {
  if (Array.isArray(value) && value.length > 0 && value.every(isTable)) return `[[${key}]]`;
  return isTable(value) ? `[${key}]` : key;
}

/**
 * Sorts the file's keys against the schema: what this project owns is walked (objects and
 * records, nested), Trusted Server's keys and sections are listed as ignored, the rest is unknown.
 * Values are never looked at beyond their shape, so nothing secret reaches the report.
 */
export function classifyKeys(raw: Record<string, unknown>, schema: unknown): KeyReport {
  const report: KeyReport = { ignored: [], unknown: [] };
  const root = unwrap(schema as SchemaNode);
  const shape = root._zod.def.shape ?? {};
  const owned = Object.keys(shape);
  for (const [key, value] of Object.entries(raw)) {
    const child = shape[key];
    if (child) {
      walk(value, child, `${key}.`, TRUSTED_SERVER_KEYS[key] ?? [], report);
      continue;
    }
    if (TRUSTED_SERVER_SECTIONS.includes(key)) {
      report.ignored.push(sectionLabel(key, value));
      continue;
    }
    if (!isTable(value) && !Array.isArray(value)) {
      // A bare key above every section header. Trusted Server has none; one that matches a key of
      // ours was meant for that section (or is a secret pasted there). Others are left alone.
      const home = homeOf(key, shape);
      const secret = SECRET_NAME.test(key);
      if (home === undefined && !secret) report.ignored.push(key);
      else {
        report.unknown.push({
          path: key,
          ...(home === undefined ? {} : { suggestion: home }),
          known: owned,
          secret,
        });
      }
      continue;
    }
    const near = nearest(key, owned);
    if (near === undefined) report.ignored.push(sectionLabel(key, value));
    else {
      report.unknown.push({
        path: sectionLabel(key, value),
        suggestion: sectionLabel(near, value),
        known: owned,
        secret: false,
      });
    }
  }
  return report;
}

function walk(
  value: unknown,
  node: SchemaNode,
  prefix: string,
  foreign: readonly string[],
  report: KeyReport,
): void {
  if (!isTable(value)) return; // a wrong type is the schema's to report
  const schema = unwrap(node);
  const def = schema._zod.def;
  if (def.type === 'record' && def.valueType) {
    for (const [key, entry] of Object.entries(value)) {
      walk(entry, def.valueType, `${prefix}${key}.`, [], report);
    }
    return;
  }
  if (def.type !== 'object' || !def.shape) return; // unions and the like: the schema decides
  const shape = def.shape;
  const known = [...Object.keys(shape), ...foreign.filter((k) => !(k in shape))];
  for (const [key, entry] of Object.entries(value)) {
    const child = shape[key];
    if (child) walk(entry, child, `${prefix}${key}.`, [], report);
    else if (foreign.includes(key)) report.ignored.push(`${prefix}${key}`);
    else {
      const suggestion = nearest(key, known);
      report.unknown.push({
        path: `${prefix}${key}`,
        ...(suggestion === undefined ? {} : { suggestion }),
        known,
        secret: SECRET_NAME.test(key),
      });
    }
  }
}

/**
 * This service's sections and keys that Trusted Server does not define: what a Trusted Server that
 * denies unknown fields refuses in a shared file (docs/configuration.md, "Sharing one file with Trusted Server").
 */
export function additionsToTrustedServer(schema: unknown): string[] {
  const shape = unwrap(schema as SchemaNode)._zod.def.shape ?? {};
  const out: string[] = [];
  for (const [section, node] of Object.entries(shape)) {
    const theirs = TRUSTED_SERVER_KEYS[section];
    if (!theirs) {
      out.push(`[${section}]`);
      continue;
    }
    const inner = unwrap(node)._zod.def.shape ?? {};
    for (const key of Object.keys(inner)) if (!theirs.includes(key)) out.push(`${section}.${key}`);
  }
  return out;
}

/** `admin.requests_per_minute` for a bare `requests_per_minute`: the section keys that match it. */
function homeOf(key: string, shape: Record<string, SchemaNode>): string | undefined {
  const homes: string[] = [];
  for (const [section, node] of Object.entries(shape)) {
    const inner = unwrap(node)._zod.def;
    if (inner.type !== 'object' || !inner.shape) continue;
    const near = nearest(key, Object.keys(inner.shape));
    if (near !== undefined) homes.push(`${section}.${near}`);
  }
  return homes.length > 0 ? homes.join(' or ') : undefined;
}

/** The closest of `candidates` to `name`, if it is close enough to be a typo of it. */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  const wanted = name.toLowerCase().replace(/-/g, '_');
  // A third of the length, at least 2: `requests_per_minut` → `requests_per_minute`, `admn` →
  // `admin`, while short unrelated names (`ec`, `cache`) stay unrelated.
  const bound = Math.max(2, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    // A shortened key (`key_lifetime` for `key_lifetime_days`) is as good as a typo.
    const d = lower.startsWith(wanted) && wanted.length >= 4 ? 1 : editDistance(wanted, lower);
    if (d <= bound && d < bestDistance && d < candidate.length) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
