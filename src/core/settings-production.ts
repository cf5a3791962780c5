// What a build that ships must not carry: the placeholders of the repository's own settings file
// and of Trusted Server's example files. Locally they are fine (`npm start` provisions its own
// stores and points the settings at them; the local Compute host maps them to its stores), so only
// the production target refuses them, each with what to put there instead.
import type { Settings } from './settings.js';

/** The store ids this project's file ships with, and the defaults when a file leaves them out. */
export const PLACEHOLDER_CONFIG_STORE_ID = 'REPLACE_WITH_JWKS_STORE_ID';
export const PLACEHOLDER_SECRET_STORE_ID = 'REPLACE_WITH_SIGNING_KEYS_STORE_ID';
/** The publisher domain this project's file ships with, and the default. */
export const PLACEHOLDER_DOMAIN = 'publisher.example';

/** `REPLACE_WITH_...` (this project) or `<fastly-config-store-id>` (Trusted Server's examples). */
export function isPlaceholderId(id: string): boolean {
  return /^REPLACE_WITH_/i.test(id) || /[<>]/.test(id) || id.trim() === '';
}

/**
 * Fastly's API documents store ids as alphanumeric strings; anything else (`app_config`, in
 * Trusted Server's example file) is a store's name given where its id belongs.
 */
export function looksLikeStoreId(id: string): boolean {
  return /^[A-Za-z0-9]+$/.test(id);
}

/**
 * Names reserved for documentation and testing (RFC 2606, RFC 6761): `publisher.example` (this
 * project's file), `example.com` (Trusted Server's example file), `*.test`, `localhost`.
 */
export function isPlaceholderDomain(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return (
    /(^|\.)(example|test|invalid|localhost)$/.test(d) || /(^|\.)example\.(com|net|org)$/.test(d)
  );
}

/** Each problem as `path: what is wrong; what to put there`. Empty when the settings can ship. */
export function productionProblems(settings: Settings, raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const given = (section: unknown, key: string): boolean =>
    typeof section === 'object' && section !== null && key in section;
  const rawSigning = raw['request_signing'];
  const storeId = (path: string, id: string, present: boolean, what: string): void => {
    if (!present) problems.push(`${path}: not set; put the id of ${what}`);
    else if (isPlaceholderId(id)) {
      problems.push(`${path}: ${JSON.stringify(id)} is a placeholder; put the id of ${what}`);
    } else if (!looksLikeStoreId(id)) {
      problems.push(
        `${path}: ${JSON.stringify(id)} is not a store id (ids are letters and digits; this looks like a name); put the id of ${what}`,
      );
    }
  };

  const domain = settings.publisher.domain;
  if (!given(raw['publisher'], 'domain')) {
    problems.push(
      "publisher.domain: not set; put your publisher's domain (the host bound into signed requests, as in Trusted Server's [publisher] domain)",
    );
  } else if (isPlaceholderDomain(domain)) {
    problems.push(
      `publisher.domain: ${JSON.stringify(domain)} is a placeholder; put your publisher's domain (the host bound into signed requests, as in Trusted Server's [publisher] domain)`,
    );
  }

  const rs = settings.request_signing;
  storeId(
    'request_signing.config_store_id',
    rs.config_store_id,
    given(rawSigning, 'config_store_id'),
    'the Config Store linked as jwks_store (`npx fastly config-store list`)',
  );
  storeId(
    'request_signing.secret_store_id',
    rs.secret_store_id,
    given(rawSigning, 'secret_store_id'),
    'the Secret Store linked as signing_keys (`npx fastly secret-store list`)',
  );
  // Optional: without it the edge serves and verifies, and every change answers 503.
  if (rs.lock_store_id !== undefined) {
    storeId(
      'request_signing.lock_store_id',
      rs.lock_store_id,
      true,
      'the KV Store linked as keyring_locks (`npx fastly kv-store list`), or remove the line (key changes then answer 503 not_configured)',
    );
  }
  for (const [name, d] of Object.entries(settings.deployments)) {
    storeId(
      `deployments.${name}.config_store_id`,
      d.config_store_id,
      true,
      `the Config Store linked as ${d.config_store}`,
    );
    storeId(
      `deployments.${name}.secret_store_id`,
      d.secret_store_id,
      true,
      `the Secret Store linked as ${d.secret_store}`,
    );
  }
  return problems;
}
