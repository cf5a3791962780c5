import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/core/settings.js';

const base = {
  publisher: { domain: 'publisher.example' },
  request_signing: { config_store_id: 'cfg', secret_store_id: 'sec' },
};

describe('settings: the bounds of a change', () => {
  it('defaults to a 120 s lease and late-write bound over 15 s calls', () => {
    expect(parseSettings(base).fastly_api).toMatchObject({
      timeout_ms: 15_000,
      lease_ms: 120_000,
      late_write_ms: 120_000,
    });
  });

  it('refuses a lease too short for two calls, naming the setting', () => {
    expect(() =>
      parseSettings({ ...base, fastly_api: { timeout_ms: 15_000, lease_ms: 20_000 } }),
    ).toThrow(/fastly_api\.lease_ms: 20000 ms cannot hold .* make it at least 30000/);
  });

  it('refuses a late-write bound shorter than a call, naming the setting', () => {
    expect(() =>
      parseSettings({ ...base, fastly_api: { timeout_ms: 15_000, late_write_ms: 5_000 } }),
    ).toThrow(/fastly_api\.late_write_ms: 5000 ms is shorter than fastly_api\.timeout_ms/);
  });
});

describe('settings: the taint cutoff skew', () => {
  it('defaults to 60 s and takes a whole number of seconds from 0 to 3600', () => {
    expect(parseSettings(base).verify.taint_cutoff_skew_seconds).toBe(60);
    for (const ok of [0, 1, 3600]) {
      const parsed = parseSettings({ ...base, verify: { taint_cutoff_skew_seconds: ok } });
      expect(parsed.verify).toEqual({ requests_per_minute: 600, taint_cutoff_skew_seconds: ok });
    }
  });

  it.each([
    [-1, 'at least 0'],
    [3601, 'at most 3600'],
    [1.5, 'must be a whole number'],
    ['60', 'must be a number'],
  ])('refuses %j, naming the setting and what it must be', (value, what) => {
    expect(() => parseSettings({ ...base, verify: { taint_cutoff_skew_seconds: value } })).toThrow(
      `trusted-server.toml: verify.taint_cutoff_skew_seconds: ${what}`,
    );
  });

  it('refuses a misspelt key, naming the one meant', () => {
    expect(() => parseSettings({ ...base, verify: { taint_cutoff_skew_second: 5 } })).toThrow(
      /verify\.taint_cutoff_skew_second: unknown key \(did you mean taint_cutoff_skew_seconds\?\)/,
    );
  });
});
