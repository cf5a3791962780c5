// The store invariants of docs/architecture.md ("Stores and their invariants"), checked on a
// FakeKeyStore after any sequence of events.
import { expect } from 'vitest';
import { parseActiveKids } from '../../src/core/keys/active-kids.js';
import { parseKeyring } from '../../src/core/keyring/document.js';
import type { FakeKeyStore } from './fake-key-store.js';

/**
 * Every published kid has its JWK and private key; `current-kid` is published; the keyring and
 * Trusted Server's items agree; no unusable key set is published but the signing one; and no private key exists that the keyring does not list
 * (except those named in `allowedOrphans`, which the failing call reported).
 */
export function expectConsistent(store: FakeKeyStore, allowedOrphans: string[] = []): void {
  const published = parseActiveKids(store.items.get('active-kids') ?? null);
  for (const kid of published) {
    expect(store.items.has(kid), `JWK of published ${kid}`).toBe(true);
    expect(store.secrets.has(kid), `private key of published ${kid}`).toBe(true);
  }
  const current = store.items.get('current-kid');
  if (current !== undefined) expect(published).toContain(current);
  const text = store.items.get('keyring');
  if (text === undefined) return;
  const keyring = parseKeyring(text);
  expect(keyring.keysets.filter((k) => k.state !== 'DEACTIVATED').map((k) => k.id)).toEqual(
    published,
  );
  expect(keyring.keysets.find((k) => k.state === 'ACTIVE')?.id).toBe(current);
  // A key set that cannot sign is never published, unless Trusted Server signs with it (ACTIVE).
  for (const k of keyring.keysets) {
    if (k.unusable) expect(['ACTIVE', 'DEACTIVATED'], `unusable ${k.id}`).toContain(k.state);
  }
  const listed = new Set(keyring.keysets.map((k) => k.id));
  for (const name of store.secrets.keys()) {
    if (!allowedOrphans.includes(name))
      expect(listed.has(name), `secret ${name} is listed`).toBe(true);
  }
}

/**
 * What must hold even while an operation's outcome is pending (a partial or late write): every
 * published kid, in Trusted Server's items and in the keyring, has its JWK and private key, and
 * every private key is listed in the keyring or named in `journal`. The exception is `removing`,
 * the kid of a pending removal (which deletes the private key first): never the signing kid, it
 * may be published without its private key until the removal is settled.
 */
export function expectSafe(store: FakeKeyStore, journal: string[], removing?: string): void {
  const published = parseActiveKids(store.items.get('active-kids') ?? null);
  const current = store.items.get('current-kid');
  if (removing !== undefined)
    expect(current, 'a removal never touches the signing kid').not.toBe(removing);
  const needsKey = (kid: string): boolean => kid !== removing;
  for (const kid of published) {
    expect(store.items.has(kid), `JWK of published ${kid}`).toBe(true);
    if (needsKey(kid)) {
      expect(store.secrets.has(kid), `private key of published ${kid}`).toBe(true);
    }
  }
  const text = store.items.get('keyring');
  const listed = new Set(journal);
  if (text === undefined) for (const key of store.items.keys()) listed.add(key);
  for (const k of text === undefined ? [] : parseKeyring(text).keysets) {
    listed.add(k.id);
    if (k.state !== 'DEACTIVATED' && needsKey(k.id)) {
      expect(store.secrets.has(k.id), `private key of published ${k.id}`).toBe(true);
    }
  }
  for (const name of store.secrets.keys()) {
    expect(listed.has(name), `secret ${name} is listed`).toBe(true);
  }
}

/** A snapshot of the whole fake, for "nothing changed" assertions. */
export function snapshot(store: FakeKeyStore): string {
  return JSON.stringify({ items: [...store.items].sort(), secrets: [...store.secrets].sort() });
}
