// The taint cutoff's pure parts: what a taint records, what a restore takes away, what a payload
// must be for a tainted key, and the edge of the cutoff (docs/taint-cutoff.md).
import { describe, expect, it } from 'vitest';
import type { Keyring, Keyset, KeysetState } from '../../src/core/keyring/document.js';
import { parseKeyring, serializeKeyring } from '../../src/core/keyring/document.js';
import { keyDocumentBody } from '../../src/core/keyring/key-documents.js';
import {
  checkTaintCutoff,
  payloadTs,
  taintCutoffMs,
  taintCutoffs,
} from '../../src/core/keyring/taint-cutoff.js';
import { transition } from '../../src/core/keyring/transitions.js';
import { buildPayloadV11 } from '../../src/core/signing/request-signing.js';

const x = 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw';
const NOW = '2026-11-22T10:00:00.000Z';
const NOW_MS = Date.parse(NOW);

function keyset(id: string, state: KeysetState): Keyset {
  return {
    id,
    state,
    jwk: { kty: 'OKP', crv: 'Ed25519', x, alg: 'EdDSA', kid: id },
    issued_at: '2026-11-01T00:00:00.000Z',
    expires_at: '2027-01-30T00:00:00.000Z',
  };
}

const ring = (): Keyring => ({
  schema: 1,
  deployment: 'default',
  version: 4,
  updated_at: '2026-11-20T00:00:00.000Z',
  keysets: [keyset('live', 'ACTIVE'), keyset('old', 'PREPARED')],
});

const find = (k: Keyring, id: string): Keyset => k.keysets.find((s) => s.id === id) as Keyset;
const v11 = (ts: number): string =>
  buildPayloadV11({ kid: 'old', host: 'publisher.example', id: 'r1', ts });

describe('a taint records its cutoff', () => {
  it('sets tainted_at to now and taint_cutoff to now + the skew (default 60 s)', () => {
    const tainted = find(transition(ring(), 'taint', { id: 'old', nowIso: NOW }), 'old');
    expect(tainted).toMatchObject({
      state: 'TAINTED',
      tainted_at: NOW,
      taint_cutoff: '2026-11-22T10:01:00.000Z',
    });
    const skewed = transition(ring(), 'taint', {
      id: 'old',
      nowIso: NOW,
      taintCutoffSkewSeconds: 0,
    });
    expect(find(skewed, 'old').taint_cutoff).toBe(NOW);
  });

  it('keeps the cutoff through a deactivation, and a restore takes it away with the taint', () => {
    const tainted = transition(ring(), 'taint', { id: 'old', nowIso: NOW });
    const off = transition(tainted, 'deactivate', { id: 'old', nowIso: NOW });
    expect(find(off, 'old').taint_cutoff).toBe('2026-11-22T10:01:00.000Z');
    expect(taintCutoffMs(find(off, 'old'))).toBeNull();
    const back = transition(off, 'restore', { id: 'old', nowIso: '2026-11-23T00:00:00.000Z' });
    expect(find(back, 'old').state).toBe('PREPARED');
    expect(find(back, 'old')).not.toHaveProperty('taint_cutoff');
    expect(taintCutoffs(back.keysets)).toEqual({});
  });

  it('round-trips through the keyring item and its schema', () => {
    const tainted = transition(ring(), 'taint', { id: 'old', nowIso: NOW });
    const again = parseKeyring(serializeKeyring(tainted));
    expect(find(again, 'old').taint_cutoff).toBe('2026-11-22T10:01:00.000Z');
  });

  it('publishes every TAINTED kid with its cutoff in the discovery document, nothing in the JWKS', () => {
    const tainted = transition(ring(), 'taint', { id: 'old', nowIso: NOW });
    const doc = JSON.parse(keyDocumentBody('discovery', tainted)) as Record<string, unknown>;
    expect(doc['tainted_kids']).toEqual(['old']);
    expect(doc['taint_cutoffs']).toEqual({ old: '2026-11-22T10:01:00.000Z' });
    expect(Object.keys(doc)).toEqual([
      'version',
      'jwks',
      'keyring_version',
      'tainted_kids',
      'taint_cutoffs',
      'key_log',
      'unendorsed_kids',
    ]);
    expect(JSON.parse(keyDocumentBody('jwks', tainted))).not.toHaveProperty('taint_cutoffs');
    expect(JSON.parse(keyDocumentBody('discovery', ring())).taint_cutoffs).toEqual({});
  });

  it('reads a key tainted before cutoffs were recorded as tainted_at + 60 s, and one with no taint time as 0', () => {
    expect(taintCutoffMs({ state: 'TAINTED', tainted_at: NOW })).toBe(NOW_MS + 60_000);
    expect(taintCutoffMs({ state: 'TAINTED' })).toBe(0);
    expect(taintCutoffMs({ state: 'PREPARED', tainted_at: NOW, taint_cutoff: NOW })).toBeNull();
  });
});

describe('a payload against a cutoff', () => {
  const cutoff = NOW_MS + 60_000;

  it('verifies strictly before the cutoff; at the cutoff and after it is refused, naming it', () => {
    expect(checkTaintCutoff('old', cutoff, v11(cutoff - 1))).toBeNull();
    expect(checkTaintCutoff('old', cutoff, v11(NOW_MS - 300_000))).toBeNull();
    const at = checkTaintCutoff('old', cutoff, v11(cutoff));
    expect(at).toEqual({
      error: 'signed_after_taint_cutoff',
      reason:
        "key old is tainted: the payload's ts 2026-11-22T10:01:00.000Z is not before its taint cutoff 2026-11-22T10:01:00.000Z",
    });
    expect(checkTaintCutoff('old', cutoff, v11(cutoff + 3_600_000))?.error).toBe(
      'signed_after_taint_cutoff',
    );
  });

  it('reads ts only from compact JSON, as Trusted Server signs it', () => {
    expect(payloadTs(v11(1763800000000))).toBe(1763800000000);
    expect(payloadTs('{"ts":5}')).toBe(5);
    const refused = [
      'not json',
      '',
      '[1]',
      'null',
      '{"id":"x"}',
      '{"ts":"1763800000000"}',
      '{"ts":1.5}',
      '{"ts":-1}',
      '{"ts":1e3}',
      '{"ts":9007199254740993}',
      '{ "ts":5}',
      '{"ts":5}\n',
      // Parsers disagree on a repeated member: the service would read 9, another parser 1.
      '{"ts":1,"ts":9}',
      '{"t\\u0073":9,"ts":1}',
    ];
    for (const text of refused) expect(payloadTs(text), text).toBeNull();
    expect(checkTaintCutoff('old', cutoff, '{"ts":1,"ts":9}')).toEqual({
      error: 'tainted_key_payload_without_ts',
      reason:
        'key old is tainted: it verifies only a Trusted Server v1.1 payload (compact JSON) whose ts, in Unix milliseconds, is before its taint cutoff 2026-11-22T10:01:00.000Z',
    });
  });

  it('names a ts too large for a date in milliseconds', () => {
    const refusal = checkTaintCutoff('old', cutoff, `{"ts":${Number.MAX_SAFE_INTEGER}}`);
    expect(refusal?.reason).toContain(`${Number.MAX_SAFE_INTEGER} (Unix ms)`);
  });
});
