// Trusted Server's own key management, replayed call for call against the (local) Fastly
// management API, as its `KeyRotationManager` (crates/trusted-server-core/src/request_signing/
// rotation.rs) and its Fastly adapter (crates/trusted-server-adapter-fastly/src/management_api.rs)
// make them:
// - rotate: POST /resources/stores/secret/{id}/secrets `{"name","secret":<base64 of the base64
//   seed>,"method":"create_or_recreate"}`, then PUT /resources/stores/config/{id}/item/{kid}
//   (form `item_value=<JWK>`), PUT .../item/active-kids (the old list plus the kid), PUT
//   .../item/current-kid, in that order;
// - deactivate: refused for current-kid and for the last kid, else PUT .../item/active-kids;
// - delete: deactivate, DELETE .../secrets/{kid}, DELETE .../item/{kid} (404s count as done).
// Its reads of current-kid and active-kids go to the edge store, which on the local stack is a
// live view of the API's state, so they are read through the API here.
import { randomBytes } from 'node:crypto';
import * as ed from '@noble/ed25519';

/** Where Trusted Server's calls go. */
export interface TsTarget {
  apiUrl: string;
  token: string;
  configStoreId: string;
  secretStoreId: string;
}

/** One management-API call as Trusted Server sends it. */
export interface TsCall {
  method: string;
  path: string;
  status: number;
}

export class TrustedServerTools {
  /** Every call made, in order, for the test to show what was replayed. */
  readonly calls: TsCall[] = [];

  constructor(private readonly target: TsTarget) {}

  /** Trusted Server's `rotate_key(kid)`: a new key that signs at once. */
  async rotate(kid: string): Promise<{ x: string }> {
    const active = await this.activeKids();
    if (active.includes(kid) || (await this.item(kid)) !== null) {
      throw new Error(`kid '${kid}' already exists; choose a unique kid`);
    }
    const seed = randomBytes(32);
    const x = Buffer.from(await ed.getPublicKeyAsync(seed)).toString('base64url');
    const stored = seed.toString('base64');
    await this.send(
      'POST',
      `/resources/stores/secret/${enc(this.target.secretStoreId)}/secrets`,
      JSON.stringify({
        name: kid,
        secret: Buffer.from(stored).toString('base64'),
        method: 'create_or_recreate',
      }),
      'application/json',
    );
    // jose_jwk's serialization of Keypair::get_jwk: the OKP members, then kid and alg.
    await this.put(kid, JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA' }));
    await this.put('active-kids', [...active.filter((k) => k !== kid), kid].join(','));
    await this.put('current-kid', kid);
    return { x };
  }

  /** Trusted Server's `deactivate_key(kid)`. */
  async deactivate(kid: string): Promise<void> {
    await this.ensureNotCurrent(kid, 'deactivate');
    const remaining = (await this.activeKids()).filter((k) => k !== kid);
    if (remaining.length === 0) throw new Error('cannot deactivate the last active key');
    await this.put('active-kids', remaining.join(','));
  }

  /** Trusted Server's `delete_key(kid)`: deactivate, then the private key, then the JWK. */
  async delete(kid: string): Promise<void> {
    await this.ensureNotCurrent(kid, 'delete');
    await this.deactivate(kid);
    await this.send(
      'DELETE',
      `/resources/stores/secret/${enc(this.target.secretStoreId)}/secrets/${enc(kid)}`,
      null,
      null,
      true,
    );
    await this.send('DELETE', this.itemPath(kid), null, null, true);
  }

  /** The documented manual step: `fastly config-store-entry update --key current-kid`. */
  async setCurrentKid(kid: string): Promise<void> {
    await this.put('current-kid', kid);
  }

  async item(key: string): Promise<string | null> {
    const res = await fetch(`${this.target.apiUrl}${this.itemPath(key)}`, {
      headers: { 'fastly-key': this.target.token, accept: 'application/json' },
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`GET item ${key}: ${res.status}`);
    return ((await res.json()) as { item_value: string }).item_value;
  }

  private async activeKids(): Promise<string[]> {
    return ((await this.item('active-kids')) ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
  }

  private async ensureNotCurrent(kid: string, operation: string): Promise<void> {
    if ((await this.item('current-kid')) === kid) {
      throw new Error(
        `cannot ${operation} '${kid}' because it is the current signing key; rotate first`,
      );
    }
  }

  private put(key: string, value: string): Promise<void> {
    return this.send(
      'PUT',
      this.itemPath(key),
      `item_value=${encodeURIComponent(value)}`,
      'application/x-www-form-urlencoded',
    );
  }

  private itemPath(key: string): string {
    return `/resources/stores/config/${enc(this.target.configStoreId)}/item/${enc(key)}`;
  }

  private async send(
    method: string,
    path: string,
    body: string | null,
    contentType: string | null,
    notFoundOk = false,
  ): Promise<void> {
    const headers: Record<string, string> = {
      'fastly-key': this.target.token,
      accept: 'application/json',
    };
    if (body !== null && contentType) headers['content-type'] = contentType;
    const res = await fetch(`${this.target.apiUrl}${path}`, {
      method,
      headers,
      ...(body !== null ? { body } : {}),
    });
    await res.arrayBuffer();
    this.calls.push({ method, path, status: res.status });
    if (!res.ok && !(notFoundOk && res.status === 404)) {
      throw new Error(`${method} ${path}: ${res.status}`);
    }
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}
