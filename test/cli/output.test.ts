// The pretty renderers on fixed input, where times are controlled: SPIRL's time format, state
// names, newest-first order and column alignment.
import { describe, expect, it } from 'vitest';
import type { Keyring } from '../../src/core/keyring/document.js';
import { alignColumns, formatTime, renderKeyring } from '../../src/cli/output.js';

const jwk = (kid: string) => ({
  kty: 'OKP' as const,
  crv: 'Ed25519' as const,
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  alg: 'EdDSA' as const,
  kid,
});

const KEYRING: Keyring = {
  schema: 1,
  deployment: 'default',
  version: 7,
  updated_at: '2026-11-22T10:15:00.123Z',
  keysets: [
    {
      id: 'ts-2025-10-A',
      state: 'TAINTED',
      jwk: jwk('ts-2025-10-A'),
      issued_at: '2025-10-01T00:00:00Z',
      expires_at: '2025-12-30T00:00:00Z',
      activated_at: '2025-10-01T00:00:00Z',
      tainted_at: '2026-11-22T10:15:00Z',
    },
    {
      id: 'ts-2026-11-22',
      state: 'ACTIVE',
      jwk: jwk('ts-2026-11-22'),
      issued_at: '2026-11-22T09:23:41.500Z',
      expires_at: '2027-02-20T09:23:41.500Z',
      activated_at: '2026-11-22T10:00:00Z',
    },
    {
      id: 'partner-b',
      state: 'PREPARED',
      jwk: jwk('partner-b'),
      issued_at: '2026-11-22T09:23:41.500Z',
      expires_at: '2027-02-20T09:23:41.500Z',
    },
    {
      id: 'old-1',
      state: 'DEACTIVATED',
      jwk: jwk('old-1'),
      issued_at: '2025-01-13T09:23:41Z',
      expires_at: '2025-04-13T09:23:41Z',
      deactivated_at: '2025-06-01T00:00:00Z',
    },
  ],
};

describe('tsctl pretty output', () => {
  it('formats instants as spirlctl does, in UTC, without fractions', () => {
    expect(formatTime('2026-01-13T09:23:41Z')).toBe('2026-01-13 09:23:41 +0000 UTC');
    expect(formatTime('2026-01-13T10:23:41.987+01:00')).toBe('2026-01-13 09:23:41 +0000 UTC');
  });

  it('lists key sets newest first (issue time, then id) in aligned columns with state names', () => {
    expect(renderKeyring(KEYRING)).toMatchInlineSnapshot(`
      "Deployment: default (keyring version 7, updated 2026-11-22 10:15:00 +0000 UTC)

      Type     Keyset ID      Issued At                      Expires At                     State
      Ed25519  ts-2026-11-22  2026-11-22 09:23:41 +0000 UTC  2027-02-20 09:23:41 +0000 UTC  Active
      Ed25519  partner-b      2026-11-22 09:23:41 +0000 UTC  2027-02-20 09:23:41 +0000 UTC  Prepared
      Ed25519  ts-2025-10-A   2025-10-01 00:00:00 +0000 UTC  2025-12-30 00:00:00 +0000 UTC  Tainted
      Ed25519  old-1          2025-01-13 09:23:41 +0000 UTC  2025-04-13 09:23:41 +0000 UTC  Deactivated"
    `);
  });

  it('says so when a deployment has no key sets', () => {
    expect(renderKeyring({ ...KEYRING, keysets: [] })).toMatch(/\n\nNo key sets\.$/);
  });

  it('pads every column but the last, so lines carry no trailing spaces', () => {
    expect(
      alignColumns([
        ['a', 'bbb', 'c'],
        ['aaaa', 'b', 'cc'],
      ]),
    ).toBe('a     bbb  c\naaaa  b    cc');
  });
});
