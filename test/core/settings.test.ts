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
