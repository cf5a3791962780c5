// The service's settings: the parsed `trusted-server.toml`. Node reads the file at start-up; the
// Fastly build embeds the parsed object, because edge code cannot read files.
import * as z from 'zod/mini';
import { TskError } from './errors.js';

const storeId = z.string().check(z.minLength(1), z.maxLength(64));

const SettingsSchema = z.object({
  publisher: z.object({
    /** Host bound into signed payloads (`host` of Trusted Server's v1.1 payload). */
    domain: z.string().check(z.minLength(1), z.maxLength(253)),
  }),
  request_signing: z.object({
    /** Management-API id of the Config Store the edge reads as `jwks_store`. */
    config_store_id: storeId,
    /** Management-API id of the Secret Store the edge reads as `signing_keys`. */
    secret_store_id: storeId,
    /** Management-API id of the KV Store holding mutation leases (`keyring_locks`). */
    lock_store_id: z.optional(storeId),
    /** Days from a key's creation to its `expires_at`. */
    key_lifetime_days: z._default(z.number().check(z.int(), z.positive(), z.lte(3650)), 90),
  }),
  fastly_api: z._default(
    z.object({
      /** Base URL of the management API. */
      endpoint: z._default(z.url(), 'https://api.fastly.com'),
      /** Name of the Compute backend that reaches the endpoint. */
      backend: z._default(z.string().check(z.minLength(1)), 'fastly_api'),
      /** Bound on each management-API call. */
      timeout_ms: z._default(z.number().check(z.int(), z.positive(), z.lte(120_000)), 15_000),
    }),
    { endpoint: 'https://api.fastly.com', backend: 'fastly_api', timeout_ms: 15_000 },
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
  return result.data;
}
