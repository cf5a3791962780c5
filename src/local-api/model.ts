// The in-memory state of the local API and the identifiers and timestamps it hands out, formatted
// as Fastly formats them (seen in go-fastly's recorded responses, fastly/fixtures/).
import { randomBytes } from 'node:crypto';

/** One config store item. */
export interface ConfigItem {
  value: string;
  createdAt: string;
  updatedAt: string;
}

/** A config store and its items (key → item). */
export interface ConfigStore {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  items: Map<string, ConfigItem>;
}

/** One secret: its plaintext (never served by the API) and opaque digest. */
export interface Secret {
  plaintext: Uint8Array;
  digest: string;
  createdAt: string;
}

/** A secret store; `digestKey` keys the digests so they reveal nothing about values. */
export interface SecretStore {
  id: string;
  name: string;
  createdAt: string;
  digestKey: Uint8Array;
  secrets: Map<string, Secret>;
}

/** One KV entry with its generation marker (the handle for `if-generation-match`). */
export interface KvEntry {
  value: Uint8Array;
  metadata: string;
  /** A 64-bit unsigned integer, as Fastly documents it; a bigint so it stays exact past 2^53. */
  generation: bigint;
}

/** A KV store and its entries (key → entry). */
export interface KvStore {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  keys: Map<string, KvEntry>;
}

/** What a resource link points at; the type names Fastly answers in `resource_type`. */
export type ResourceType = 'config' | 'secret-store' | 'object-store';

/** A link from one service version to a store, under the name the edge code opens it by. */
export interface ResourceLink {
  id: string;
  name: string;
  resourceId: string;
  resourceType: ResourceType;
  createdAt: string;
  updatedAt: string;
}

/** A backend of a service version: where the edge code's `fetch(..., { backend: name })` goes. */
export interface Backend {
  name: string;
  address: string;
  port: number;
  useSsl: boolean;
  sslCertHostname: string | null;
  sslSniHostname: string | null;
  overrideHost: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A domain of a service version: the host name the service answers on. */
export interface Domain {
  name: string;
  comment: string;
  createdAt: string;
  updatedAt: string;
}

/** What is kept of an uploaded Compute package: its manifest's metadata and its hashes, not its bytes. */
export interface PackageRecord {
  id: string;
  name: string;
  description: string;
  authors: string[];
  language: string;
  /** Bytes of the uploaded .tar.gz. */
  size: number;
  /** SHA-512 of the uploaded .tar.gz, hex. */
  hashsum: string;
  /** SHA-512 of the archive's files' contents in name order, hex (the Fastly CLI's files hash). */
  filesHash: string;
  createdAt: string;
  updatedAt: string;
}

/** One version of a service's configuration; an active version is always locked, as on Fastly. */
export interface ServiceVersion {
  number: number;
  active: boolean;
  locked: boolean;
  comment: string;
  createdAt: string;
  updatedAt: string;
  /** Links by link id, in creation order. */
  resources: Map<string, ResourceLink>;
  /** Backends by name, in creation order. */
  backends: Map<string, Backend>;
  /** Domains by name, in creation order. */
  domains: Map<string, Domain>;
  /** The Compute package uploaded to this version, if any. */
  package: PackageRecord | null;
}

/** A service and its versions (ascending by number; numbers start at 1 and never repeat). */
export interface Service {
  id: string;
  name: string;
  /** `wasm` (Compute) or `vcl`. */
  type: string;
  comment: string;
  createdAt: string;
  updatedAt: string;
  versions: ServiceVersion[];
}

/** Everything the local API knows; stores and services are kept in creation order. */
export interface StateData {
  configStores: Map<string, ConfigStore>;
  secretStores: Map<string, SecretStore>;
  kvStores: Map<string, KvStore>;
  services: Map<string, Service>;
  /** The last KV generation handed out; generations only ever grow. */
  kvGeneration: bigint;
}

/** A state with no stores. */
export function emptyState(): StateData {
  return {
    configStores: new Map(),
    secretStores: new Map(),
    kvStores: new Map(),
    services: new Map(),
    kvGeneration: 0n,
  };
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE36 = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomId(alphabet: string, length: number): string {
  // Rejection sampling keeps every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/**
 * A config or secret store id, and also a service or resource link id: 22 mixed-case
 * alphanumerics, like `pS86koqiZWkt6VJgvNuUe3` (services: `MVo3trM9NTFhpYCJsSrEUD`).
 */
export function storeId(): string {
  return randomId(BASE62, 22);
}

/** A KV store id: 22 lower-case alphanumerics, like `iaa48y0oxw13s12xpfdkk9`. */
export function kvStoreId(): string {
  return randomId(BASE36, 22);
}

/** Config and secret store timestamps: ISO 8601 to the second, `2023-03-01T22:12:20Z`. */
export function isoSeconds(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** KV store timestamps, which Fastly now writes as `2025-06-23 19:40:58` (no T, no zone). */
export function kvTimestamp(now = new Date()): string {
  return isoSeconds(now).replace('T', ' ').replace('Z', '');
}

/** Largest KV generation: Fastly documents generations as 64-bit unsigned integers. */
export const MAX_GENERATION = (1n << 64n) - 1n;

/**
 * The next KV generation. Fastly's look like microsecond clock readings (1750707676353461);
 * this follows the clock too but never repeats or goes back. Exact past 2^53 (a state file may
 * carry larger ones, as Fastly's may be).
 */
export function nextGeneration(state: StateData): bigint {
  const clock = BigInt(Date.now()) * 1000n;
  const after = state.kvGeneration + 1n;
  const next = after > clock ? after : clock;
  if (next > MAX_GENERATION) throw new RangeError('KV generations are exhausted');
  state.kvGeneration = next;
  return next;
}

/** Parses the decimal text of a generation (1 to 20 digits, at most 2^64 - 1), or undefined. */
export function parseGeneration(text: string): bigint | undefined {
  if (!/^[0-9]{1,20}$/.test(text)) return undefined;
  const value = BigInt(text);
  return value <= MAX_GENERATION ? value : undefined;
}

/** Orders strings as UTF-8 bytes, the order Fastly's KV listing uses. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
