// What every hostile request must leave true, whatever its status: no stack trace or source path
// in the answer, no secret anywhere the client or an operator's log can see, and (when refused)
// the signing stores exactly as they were. Shared by the table and the fuzz.
import type { FastlyApi } from '../../../src/fastly-api/index.js';
import type { LocalApiState } from '../../../src/local-api/index.js';
import type { ProvisionedStores } from '../../../src/platform/node/provision.js';

/** The public development seed from fastly.toml: public, but must never be echoed back. */
export const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

// A V8 stack frame (`at fn (file:1:2)` or `at file:1:2`) and the paths a frame or a careless
// message would name: any of them in a response means an internal error escaped unrendered.
const STACK_FRAME = /\bat\s+\S+\s+\(?[^)\s]*:\d+:\d+/;
const SOURCE_PATH = /node_modules|\/src\/|\.ts:\d+|\bfile:\/\//;

/** Why `text` looks like it carries a stack trace or a source path, or null. */
export function stackTraceIn(text: string): string | null {
  const frame = STACK_FRAME.exec(text) ?? SOURCE_PATH.exec(text);
  return frame ? `stack trace or source path: ${JSON.stringify(frame[0])}` : null;
}

/** A secret and a name for it that is safe to print when it leaks. */
export interface Secret {
  name: string;
  value: string;
}

/** Every place in `texts` where a secret occurs, as "<secret name> in <where>". */
export function leaksIn(texts: Record<string, string>, secrets: readonly Secret[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      // Short values would match by chance; every real secret here is 16+ characters.
      if (secret.value.length >= 16 && text.includes(secret.value))
        found.push(`${secret.name} in ${where}`);
    }
  }
  return found;
}

/** Padded standard base64 → unpadded base64url: how a private key would appear as a JWK `d`. */
export function base64UrlOf(standard: string): string {
  return standard.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The signing stores as the management API reports them: every config item (key and value) of
 * `jwks_store` and every secret (name and digest) of `signing_keys`. A digest changes when a
 * secret is recreated, so a delete-and-recreate is seen as a change too.
 */
export async function storeSnapshot(client: FastlyApi, stores: ProvisionedStores): Promise<string> {
  const [items, secrets] = await Promise.all([
    client.listConfigItems(stores.jwksStoreId),
    client.listSecrets(stores.signingKeysStoreId),
  ]);
  const byFirst = (a: [string, string], b: [string, string]): number => a[0].localeCompare(b[0]);
  return JSON.stringify({
    items: items.map((i): [string, string] => [i.key, i.value]).sort(byFirst),
    secrets: secrets.map((s): [string, string] => [s.name, s.digest]).sort(byFirst),
  });
}

/** The private keys now in `signing_keys` (both spellings), read the way the edge reads them. */
export function signingKeySecrets(
  state: LocalApiState,
  stores: ProvisionedStores,
  snapshot: string,
): Secret[] {
  const { secrets } = JSON.parse(snapshot) as { secrets: Array<[string, string]> };
  const out: Secret[] = [];
  for (const [name] of secrets) {
    const bytes = state.secretPlaintext(stores.signingKeysStoreId, name);
    if (!bytes) continue;
    const seed = new TextDecoder().decode(bytes).trim();
    out.push({ name: `private key ${name}`, value: seed });
    out.push({ name: `private key ${name} (base64url)`, value: base64UrlOf(seed) });
  }
  return out;
}

/** Counts for the one summary line a suite prints at the end. */
export class Tally {
  tried = 0;
  refused = 0;
  /** Only ever 0 on a passing run: a leak fails its case. Counted so a failing run says how many. */
  leaks = 0;
  serverErrors = 0;

  /** Records one answered request. */
  record(status: number): void {
    this.tried += 1;
    if (status >= 400) this.refused += 1;
    if (status >= 500) this.serverErrors += 1;
  }
}
