// The service's settings: the parsed `trusted-server.toml`. Node reads the file at start-up; the
// Fastly build embeds the parsed object, because edge code cannot read files. The file may be
// Trusted Server's own: what this project does not use is ignored (and listed), every setting
// here has a default, and `checkSettings` is the one validation that start, build and setup share.
import * as z from 'zod/mini';
import { TskError } from './errors.js';
import { DEFAULT_DEPLOYMENT } from './deployments.js';
import { LATE_WRITE_BOUND_MS, OPERATION_BOUND_MS } from './keyring/lease.js';
import { DEFAULT_TAINT_CUTOFF_SKEW_SECONDS } from './keyring/taint-cutoff.js';
import {
  additionsToTrustedServer as additionsOf,
  classifyKeys,
  type UnknownKey,
} from './settings-keys.js';
import {
  PLACEHOLDER_CONFIG_STORE_ID,
  PLACEHOLDER_DOMAIN,
  PLACEHOLDER_SECRET_STORE_ID,
  productionProblems,
} from './settings-production.js';
import {
  assertSchedulePolicies,
  KeyDocumentsSettingsSchema,
  ScheduleSettingsSchema,
} from './schedule/policy.js';

const storeId = z.string().check(z.minLength(1), z.maxLength(64));
// Edge names of linked stores: Fastly's rules (a letter, then letters, digits, `_`, `-`, space).
const storeName = z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_ -]{0,254}$/));
const lifetimeDays = z.number().check(z.int(), z.positive(), z.lte(3650));
/**
 * The longest taint cutoff skew: an hour. A compromised key keeps vouching for forgeries dated
 * up to the skew after its taint, so a longer one would defeat the cutoff.
 */
export const MAX_TAINT_CUTOFF_SKEW_SECONDS = 3600;
const timeoutMs = z.number().check(z.int(), z.gte(10), z.lte(600_000));

const DeploymentSchema = z.object({
  /** Edge name of the deployment's Config Store (like `jwks_store`). */
  config_store: storeName,
  config_store_id: storeId,
  /** Edge name of the deployment's signing-key Secret Store (like `signing_keys`). */
  secret_store: storeName,
  secret_store_id: storeId,
  key_lifetime_days: z.optional(lifetimeDays),
  /** This deployment's rotation schedule, field by field over `[schedule]`. */
  schedule: z.optional(ScheduleSettingsSchema),
});

const SettingsSchema = z.object({
  // The two sections Trusted Server has too. Their defaults are placeholders: `npm start` and the
  // local Compute host put their own stores in place, and the production build refuses them.
  publisher: z._default(
    z.object({
      /** Host bound into signed payloads (`host` of Trusted Server's v1.1 payload). */
      domain: z._default(z.string().check(z.minLength(1), z.maxLength(253)), PLACEHOLDER_DOMAIN),
    }),
    { domain: PLACEHOLDER_DOMAIN },
  ),
  request_signing: z._default(
    z.object({
      /** Trusted Server signs only when true; this service always serves and signs. */
      enabled: z.optional(z.boolean()),
      /** Management-API id of the Config Store the edge reads as `jwks_store`. */
      config_store_id: z._default(storeId, PLACEHOLDER_CONFIG_STORE_ID),
      /** Management-API id of the Secret Store the edge reads as `signing_keys`. */
      secret_store_id: z._default(storeId, PLACEHOLDER_SECRET_STORE_ID),
      /** Management-API id of the KV Store holding mutation leases (`keyring_locks`). */
      lock_store_id: z.optional(storeId),
      /** Days from a key's creation to its `expires_at`. */
      key_lifetime_days: z._default(lifetimeDays, 90),
    }),
    {
      config_store_id: PLACEHOLDER_CONFIG_STORE_ID,
      secret_store_id: PLACEHOLDER_SECRET_STORE_ID,
      key_lifetime_days: 90,
    },
  ),
  /**
   * Deployments besides `default` (which is [request_signing]), each with its own stores. They
   * share the lock store; their key documents are served only through the admin API.
   */
  deployments: z._default(
    z.record(
      z.string().check(
        z.regex(/^[a-z][a-z0-9_-]{0,63}$/),
        z.refine((n) => n !== DEFAULT_DEPLOYMENT, `${DEFAULT_DEPLOYMENT} is [request_signing]`),
      ),
      DeploymentSchema,
    ),
    {},
  ),
  /** Every deployment's rotation schedule (src/core/schedule/policy.ts); all fields optional. */
  schedule: z._default(ScheduleSettingsSchema, {}),
  /** Cache-Control of the JWKS and the discovery document. */
  key_documents: KeyDocumentsSettingsSchema,
  admin: z._default(
    z.object({
      /** Admin requests a client (IP) or a token may make per minute. */
      requests_per_minute: z._default(z.number().check(z.int(), z.positive(), z.lte(100_000)), 60),
      /** Failed authentications per minute from one IP before it goes in the penalty box. */
      auth_failures_per_minute: z._default(
        z.number().check(z.int(), z.positive(), z.lte(1000)),
        10,
      ),
      /** How long the penalty box holds a client (Fastly allows 1–60). */
      penalty_minutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(60)), 15),
      /** Name of the Fastly log endpoint that receives the audit trail. */
      audit_log_endpoint: z._default(z.string().check(z.minLength(1), z.maxLength(255)), 'audit'),
    }),
    {
      requests_per_minute: 60,
      auth_failures_per_minute: 10,
      penalty_minutes: 15,
      audit_log_endpoint: 'audit',
    },
  ),
  verify: z._default(
    z.object({
      /**
       * `/verify-signature` calls a minute per client IP. Each costs an Ed25519 verification
       * (~14 ms of CPU inside Fastly's engine), so an unbounded client could buy CPU for free.
       */
      requests_per_minute: z._default(z.number().check(z.int(), z.positive(), z.lte(100_000)), 600),
      /**
       * The taint cutoff's skew (docs/taint-cutoff.md): a key tainted at T verifies only payloads
       * whose `ts` is before T + this many seconds, so honest requests signed just before the taint
       * by a signer whose clock runs a little ahead still verify. Fixed on each key when tainted.
       */
      taint_cutoff_skew_seconds: z._default(
        z.number().check(z.int(), z.gte(0), z.lte(MAX_TAINT_CUTOFF_SKEW_SECONDS)),
        DEFAULT_TAINT_CUTOFF_SKEW_SECONDS,
      ),
    }),
    {
      requests_per_minute: 600,
      taint_cutoff_skew_seconds: DEFAULT_TAINT_CUTOFF_SKEW_SECONDS,
    },
  ),
  /**
   * The Node edge of `npm start` only (Fastly applies its own limits at the edge): how long a
   * client may take to send a request, and how many connections one client may hold open.
   */
  local_edge: z._default(
    z.object({
      /** From the first byte of a request to the end of its headers; then 408. */
      headers_timeout_ms: z._default(timeoutMs, 10_000),
      /** From the end of the headers to the end of the body; then 408. */
      body_timeout_ms: z._default(timeoutMs, 30_000),
      /** Longest silence while the app waits for more of the body; then 408. */
      body_idle_timeout_ms: z._default(timeoutMs, 5_000),
      /** Open connections from one client IP; any more are closed at once. */
      max_connections_per_client: z._default(
        z.number().check(z.int(), z.positive(), z.lte(10_000)),
        32,
      ),
    }),
    {
      headers_timeout_ms: 10_000,
      body_timeout_ms: 30_000,
      body_idle_timeout_ms: 5_000,
      max_connections_per_client: 32,
    },
  ),
  /**
   * `?wait=propagation` on a change (`tsctl --wait`): after the commit, the edge's own Config Store
   * reads are polled until they serve the committed keyring version, for at most this long.
   */
  propagation: z._default(
    z.object({
      /** The longest wait before answering `propagated: false`; a request may ask for less. */
      wait_timeout_ms: z._default(z.number().check(z.int(), z.gte(0), z.lte(600_000)), 120_000),
      /** Time between two edge reads while waiting. */
      poll_interval_ms: z._default(z.number().check(z.int(), z.gte(10), z.lte(60_000)), 1000),
    }),
    { wait_timeout_ms: 120_000, poll_interval_ms: 1000 },
  ),
  fastly_api: z._default(
    z.object({
      /** Base URL of the management API. */
      endpoint: z._default(z.url(), 'https://api.fastly.com'),
      /** Name of the Compute backend that reaches the endpoint. */
      backend: z._default(z.string().check(z.minLength(1)), 'fastly_api'),
      /** Bound on each management-API call. */
      timeout_ms: z._default(z.number().check(z.int(), z.positive(), z.lte(120_000)), 15_000),
      /** How long one operation may hold a deployment's lease before it is presumed dead. */
      lease_ms: z._default(
        z.number().check(z.int(), z.gte(1000), z.lte(600_000)),
        OPERATION_BOUND_MS,
      ),
      /**
       * How long after it was sent a write whose answer never came may still land. Nothing such a
       * write could refer to is undone before; the deployment stays locked until then.
       */
      late_write_ms: z._default(
        z.number().check(z.int(), z.gte(1000), z.lte(600_000)),
        LATE_WRITE_BOUND_MS,
      ),
      /**
       * Base64 Ed25519 key that must sign the secret-store client keys secrets are sealed to.
       * Absent: Fastly's own, as the Fastly CLI pins it. Set only for an API you run yourself.
       */
      secret_signing_key: z.optional(
        z.string().check(z.regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, 'base64 of 32 bytes')),
      ),
    }),
    {
      endpoint: 'https://api.fastly.com',
      backend: 'fastly_api',
      timeout_ms: 15_000,
      lease_ms: OPERATION_BOUND_MS,
      late_write_ms: LATE_WRITE_BOUND_MS,
    },
  ),
});

/** The validated settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/**
 * `local`: `npm start`, `npm run serve`, the tests (placeholders are fine, local stores replace
 * them). `production`: the build that ships, which refuses placeholders and missing store ids.
 */
export type SettingsTarget = 'local' | 'production';

export interface SettingsOptions {
  /** Default `local`. */
  target?: SettingsTarget;
  /** The file named in every message; default `trusted-server.toml`. */
  file?: string;
}

/** Settings that passed, and what of the file was left alone. */
export interface CheckedSettings {
  /** Defaults filled in; everything this project does not use dropped, so it is never embedded. */
  settings: Settings;
  /** Sections and keys ignored (Trusted Server's), in file order; see `ignoredSettingsLine`. */
  ignored: string[];
}

/**
 * The one validation of a settings file, for `npm start`, `npm run build` and `tsctl setup` alike,
 * so the same file gets the same answer and the same message on every path. Refuses, in order: a
 * key named like a secret, a key no section of this project knows (naming the nearest known one),
 * a bad value, bounds that contradict each other, and for `production` the placeholders.
 */
export function checkSettings(raw: unknown, options: SettingsOptions = {}): CheckedSettings {
  const file = options.file ?? 'trusted-server.toml';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TskError('not_configured', `${file}: settings must be a table of sections`);
  }
  const table = raw as Record<string, unknown>;
  const keys = classifyKeys(table, SettingsSchema);
  const secrets = keys.unknown.filter((k) => k.secret);
  if (secrets.length > 0) {
    throw new TskError(
      'not_configured',
      `${file}: ${secrets.map((k) => k.path).join(', ')}: named like a secret. This file is embedded in the wasm and kept in git; secrets belong in secret stores (the Fastly API token in api-keys as api_key, admin tokens in admin_tokens, signing keys in signing_keys), never here`,
      { details: { keys: secrets.map((k) => k.path) } },
    );
  }
  if (keys.unknown.length > 0) {
    throw new TskError(
      'not_configured',
      `${file}: ${keys.unknown.map(describeUnknown).join('; ')}`,
      {
        details: {
          unknown: keys.unknown.map((k) => ({
            path: k.path,
            ...(k.suggestion === undefined ? {} : { suggestion: k.suggestion }),
          })),
        },
      },
    );
  }
  const settings = parseSchema(table, file);
  if (options.target === 'production') {
    const problems = productionProblems(settings, table);
    if (problems.length > 0) {
      throw new TskError(
        'not_configured',
        `${file} is not ready for a production build:\n${problems.map((p) => `  - ${p}\n`).join('')}(\`npm run build:local\` builds with placeholders, for npm run serve and the tests.)`,
        { details: { problems } },
      );
    }
  }
  return { settings, ignored: keys.ignored };
}

/** This service's sections and keys Trusted Server does not define (`[admin]`, `request_signing.lock_store_id`). */
export function additionsToTrustedServer(): string[] {
  return additionsOf(SettingsSchema);
}

/** `checkSettings(raw, options).settings`: for callers that have nothing to log. */
export function parseSettings(raw: unknown, options: SettingsOptions = {}): Settings {
  return checkSettings(raw, options).settings;
}

/** The one line start and build print about what they left alone; undefined when nothing. */
export function ignoredSettingsLine(file: string, ignored: readonly string[]): string | undefined {
  if (ignored.length === 0) return undefined;
  return `${file}: ignored, not used by this service (Trusted Server's settings): ${ignored.join(', ')}`;
}

function describeUnknown(k: UnknownKey): string {
  if (!k.path.includes('.') && !k.path.startsWith('[')) {
    return `${k.path}: a key outside every section (did you mean ${k.suggestion ?? 'a section'}?)`;
  }
  if (k.path.startsWith('[')) {
    return `${k.path}: unknown section (did you mean ${k.suggestion ?? "one of this service's"}?)`;
  }
  if (k.suggestion !== undefined) return `${k.path}: unknown key (did you mean ${k.suggestion}?)`;
  const section = k.path.slice(0, k.path.lastIndexOf('.'));
  return `${k.path}: unknown key ([${section}] takes ${k.known.join(', ')})`;
}

/**
 * What a zod issue means for someone editing the file. zod/mini carries no message locale (it
 * would grow the edge bundle), so every issue says only "Invalid input" unless told otherwise.
 */
function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const given = issue.path.reduce<unknown>(
    (value, key) =>
      typeof value === 'object' && value !== null
        ? (value as Record<PropertyKey, unknown>)[key]
        : undefined,
    raw,
  );
  switch (issue.code) {
    case 'invalid_type':
      if (given === undefined) return 'missing';
      if (issue.expected === 'object') return 'must be a table';
      if (issue.expected === 'int') return 'must be a whole number';
      return `must be a ${issue.expected}`;
    case 'too_big':
      if (issue.origin === 'string') return `at most ${issue.maximum} characters`;
      return issue.inclusive ? `at most ${issue.maximum}` : `less than ${issue.maximum}`;
    case 'too_small':
      if (issue.origin === 'string') return `at least ${issue.minimum} character(s)`;
      return issue.inclusive ? `at least ${issue.minimum}` : `more than ${issue.minimum}`;
    case 'invalid_format':
      if (issue.message !== 'Invalid input') return issue.message;
      if (issue.format === 'url') return 'must be a URL';
      return issue.format === 'regex' && 'pattern' in issue
        ? `must match ${String(issue.pattern)}`
        : `must be a ${issue.format}`;
    case 'invalid_key': {
      const inner = issue.issues[0];
      if (inner && inner.message !== 'Invalid input') return `not a valid name: ${inner.message}`;
      const pattern = inner && 'pattern' in inner ? ` (${String(inner.pattern)})` : '';
      return `not a valid name${pattern}`;
    }
    default:
      return issue.message;
  }
}

function parseSchema(raw: Record<string, unknown>, file: string): Settings {
  const result = SettingsSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'settings';
    const what = issue ? describeIssue(issue, raw) : 'invalid';
    throw new TskError('not_configured', `${file}: ${where}: ${what}`, {
      details: { issues: result.error.issues },
    });
  }
  const api = result.data.fastly_api;
  // A lease shorter than two calls could never hold an operation's writes; a late-write bound
  // shorter than one call would settle an intent while its write may still be in flight.
  if (api.lease_ms < 2 * api.timeout_ms) {
    throw new TskError(
      'not_configured',
      `${file}: fastly_api.lease_ms: ${api.lease_ms} ms cannot hold an operation whose calls may each take fastly_api.timeout_ms (${api.timeout_ms} ms); make it at least ${2 * api.timeout_ms}`,
    );
  }
  if (api.late_write_ms < api.timeout_ms) {
    throw new TskError(
      'not_configured',
      `${file}: fastly_api.late_write_ms: ${api.late_write_ms} ms is shorter than fastly_api.timeout_ms (${api.timeout_ms} ms); a write given up on may still land after it`,
    );
  }
  assertSchedulePolicies(result.data);
  return result.data;
}
