import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromBase64,
  fromBase64Url,
  fromEitherBase64,
  toBase64,
  toBase64Url,
} from '../../src/core/crypto/base64.js';
import { formatActiveKids, parseActiveKids } from '../../src/core/keys/active-kids.js';
import { assertKidFormat, assertNewKid, dateKid, uniqueKid } from '../../src/core/keys/kid.js';
import { counterRandom } from '../support/fake-key-store.js';

describe('base64', () => {
  it('round-trips every byte value in both alphabets', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromBase64(toBase64(all))).toEqual(all);
    expect(fromBase64Url(toBase64Url(all))).toEqual(all);
  });
  it('refuses non-canonical text instead of repairing it', () => {
    expect(fromBase64('QQ')).toBeNull(); // missing padding
    expect(fromBase64('QR==')).toBeNull(); // non-zero trailing bits
    expect(fromBase64Url('QQ==')).toBeNull(); // padding in base64url
    expect(fromBase64Url('a+b/')).toBeNull();
    expect(fromBase64Url('A')).toBeNull();
  });
  it('decodes base64url exactly as the former decoder did (through padded base64 and atob)', () => {
    // The decoder before the table-driven one, kept as the reference.
    const former = (text: string): Uint8Array | null => {
      if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
      const std = text.replace(/-/g, '+').replace(/_/g, '/');
      return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4));
    };
    const chars = [
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
      ...'AAAAQgw',
      ...'=+/ .é\u0000\u0141',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 64 }), (parts) => {
        const text = parts.join('');
        expect(fromBase64Url(text)).toEqual(former(text));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), (bytes) => {
        expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
      }),
    );
    expect(fromBase64Url('QR')).toBeNull(); // non-zero trailing bits
    expect(fromBase64Url('QQ')).toEqual(Uint8Array.from([0x41]));
    expect(fromBase64Url('')).toEqual(new Uint8Array(0));
  });
  it('accepts a signature in base64url or padded standard base64', () => {
    const bytes = Uint8Array.from([251, 255, 191]);
    expect(fromEitherBase64('-_-_')).toEqual(bytes);
    expect(fromEitherBase64('+/+/')).toEqual(bytes);
  });
});

describe('active-kids', () => {
  it('parses like Trusted Server: split on commas, trim, drop empties', () => {
    expect(parseActiveKids(' a, b ,,c,')).toEqual(['a', 'b', 'c']);
    expect(parseActiveKids(null)).toEqual([]);
    expect(parseActiveKids('')).toEqual([]);
    expect(formatActiveKids(['a', 'b'])).toBe('a,b');
  });
});

describe('kids', () => {
  it('defaults to ts-YYYY-MM-DD in UTC', () => {
    expect(dateKid(Date.parse('2026-11-22T23:59:59.999Z'))).toBe('ts-2026-11-22');
    expect(dateKid(Date.parse('2026-11-23T00:00:00.000+01:00'))).toBe('ts-2026-11-22');
  });
  it('adds a random suffix when the date kid is taken, never reusing a taken one', () => {
    const taken = new Set(['ts-2026-11-22']);
    const kid = uniqueKid('ts-2026-11-22', (k) => taken.has(k), counterRandom());
    expect(kid).toMatch(/^ts-2026-11-22-[0-9a-f]{8}$/);
    expect(uniqueKid('ts-2026-11-23', (k) => taken.has(k), counterRandom())).toBe('ts-2026-11-23');
  });
  it.each([
    ['', 'invalid_kid'],
    ['a'.repeat(129), 'invalid_kid'],
    ['Upper', 'invalid_kid'],
    ['1abc', 'invalid_kid'],
    ['a,b', 'invalid_kid'],
    ['a b', 'invalid_kid'],
    ['ts:colon', 'invalid_kid'],
    ['ключ', 'invalid_kid'],
    ['keyring', 'invalid_kid'],
    ['current-kid', 'invalid_kid'],
  ])('refuses %j as a new kid', (kid, code) => {
    expect(() => assertNewKid(kid)).toThrow(expect.objectContaining({ code }));
  });
  it('accepts well-formed new kids and existing kids that start with a capital', () => {
    expect(() => assertNewKid('ts-2026-11-22')).not.toThrow();
    expect(() => assertNewKid(`a${'.'.repeat(127)}`)).not.toThrow();
    expect(() => assertKidFormat('Legacy_Key.1')).not.toThrow();
  });
});
