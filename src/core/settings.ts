// The service's settings: the parsed `trusted-server.toml`. Node reads the file at start-up; the
// Fastly build embeds the parsed object, because edge code cannot read files.
import * as z from 'zod/mini';
import { TskError } from './errors.js';
import { DEFAULT_DEPLOYMENT } from './deployments.js';
import { LATE_WRITE_BOUND_MS, OPERATION_BOUND_MS } from './keyring/lease.js';
import {
  assertSchedulePolicies,
  KeyDocumentsSettingsSchema,
  ScheduleSettingsSchema,
} from './schedule/policy.js';

const storeId = z.string().check(z.minLength(1), z.maxLength(64));
// Edge names of linked stores: Fastly's rules (a letter, then letters, digits, `_`, `-`, space).
const storeName = z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_ -]{0,254}$/));
const lifetimeDays = z.number().check(z.int(), z.positive(), z.lte(3650));
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
  publisher: z.object({
    /** Host bound into signed payloads (`host` of Trusted Server's v1.1 payload). */
    domain: z.string().check(z.minLength(1), z.maxLength(253)),
  }),
  request_signing: z.object({
    /** Accepted for compatibility with Trusted Server's settings; this service always signs. */
    enabled: z.optional(z.boolean()),
    /** Management-API id of the Config Store the edge reads as `jwks_store`. */
    config_store_id: storeId,
    /** Management-API id of the Secret Store the edge reads as `signing_keys`. */
    secret_store_id: storeId,
    /** Management-API id of the KV Store holding mutation leases (`keyring_locks`). */
    lock_store_id: z.optional(storeId),
    /** Days from a key's creation to its `expires_at`. */
    key_lifetime_days: z._default(lifetimeDays, 90),
  }),
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
    }),
    { requests_per_minute: 600 },
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

/** Validates parsed TOML (or JSON) settings, naming the first bad field on failure. */
export function parseSettings(raw: unknown): Settings {
  const result = SettingsSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'settings';
    throw new TskError(
      'not_configured',
      `trusted-server.toml: ${where}: ${issue?.message ?? 'invalid'}`,
      {
        details: { issues: result.error.issues },
      },
    );
  }
  const api = result.data.fastly_api;
  // A lease shorter than two calls could never hold an operation's writes; a late-write bound
  // shorter than one call would settle an intent while its write may still be in flight.
  if (api.lease_ms < 2 * api.timeout_ms) {
    throw new TskError(
      'not_configured',
      `trusted-server.toml: fastly_api.lease_ms: ${api.lease_ms} ms cannot hold an operation whose calls may each take fastly_api.timeout_ms (${api.timeout_ms} ms); make it at least ${2 * api.timeout_ms}`,
    );
  }
  if (api.late_write_ms < api.timeout_ms) {
    throw new TskError(
      'not_configured',
      `trusted-server.toml: fastly_api.late_write_ms: ${api.late_write_ms} ms is shorter than fastly_api.timeout_ms (${api.timeout_ms} ms); a write given up on may still land after it`,
    );
  }
  assertSchedulePolicies(result.data);
  return result.data;
}
