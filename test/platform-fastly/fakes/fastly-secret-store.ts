// Stand-in for `fastly:secret-store` (mapped by vitest.config.ts). Same contract as the runtime:
// the constructor throws a TypeError for a store not linked to the service, and `get` rejects
// names that are empty, over 255 bytes, or not made of letters, digits, `-`, `_` and `.`.

/** Linked secret stores by edge name, secret name → plaintext; tests fill them. */
export const secretStores = new Map<string, Map<string, string>>();

/** How often the fake was touched, so tests can prove what the code under test did not do. */
export const secretStoreCalls = { opened: 0, gets: 0 };

/** The fake `SecretStoreEntry`. */
export class SecretStoreEntry {
  readonly #bytes: Uint8Array<ArrayBuffer>;

  constructor(bytes: Uint8Array<ArrayBuffer>) {
    this.#bytes = bytes;
  }

  plaintext(): string {
    return new TextDecoder().decode(this.#bytes);
  }

  rawBytes(): Uint8Array<ArrayBuffer> {
    return this.#bytes.slice();
  }
}

/** The fake `SecretStore` class. */
export class SecretStore {
  readonly #secrets: Map<string, string>;

  constructor(name: string) {
    secretStoreCalls.opened++;
    const secrets = secretStores.get(name);
    if (!secrets)
      throw new TypeError(`SecretStore constructor: No SecretStore named '${name}' exists`);
    this.#secrets = secrets;
  }

  async get(key: string): Promise<SecretStoreEntry | null> {
    secretStoreCalls.gets++;
    if (!/^[A-Za-z0-9_.-]{1,255}$/.test(key)) {
      throw new TypeError('SecretStore key can only contain letters, numbers, -, _ and .');
    }
    const value = this.#secrets.get(key);
    return value === undefined ? null : new SecretStoreEntry(new TextEncoder().encode(value));
  }
}
