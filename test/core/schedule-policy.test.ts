// The schedule's policy: defaults as SPIRE's (prepare at expiry − min(lifetime/2, 30 d), activate
// at expiry − min(lifetime/6, 7 d)), the dwell of 2 × max-age + the propagation bound, and the
// refusals at load that name the setting.
import { describe, expect, it } from 'vitest';
import { resolveDeployment } from '../../src/core/deployments.js';
import { TskError } from '../../src/core/errors.js';
import { parseSettings } from '../../src/core/settings.js';
import { activationVerdict, schedulePolicy } from '../../src/core/schedule/policy.js';

const DAY = 86_400_000;
const base = {
  publisher: { domain: 'publisher.example' },
  request_signing: { config_store_id: 'c', secret_store_id: 's' },
};
const partner = {
  config_store: 'partner_jwks',
  config_store_id: 'pc',
  secret_store: 'partner_keys',
  secret_store_id: 'ps',
};

function policyOf(raw: Record<string, unknown>, name = 'default') {
  const settings = parseSettings({ ...base, ...raw });
  return schedulePolicy(settings, resolveDeployment(settings, name));
}

function refusal(raw: Record<string, unknown>): string {
  try {
    parseSettings({ ...base, ...raw });
  } catch (err) {
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('not_configured');
    return (err as TskError).message;
  }
  throw new Error('the settings were accepted');
}

describe('schedule policy', () => {
  it('defaults to SPIRE’s offsets, a 240 s dwell and a 30 + 30 day retirement', () => {
    expect(policyOf({})).toEqual({
      lifetimeMs: 90 * DAY,
      prepareBeforeMs: 30 * DAY,
      activateBeforeMs: 7 * DAY,
      dwellMs: 240_000,
      taintAfterMs: 30 * DAY,
      removeAfterMs: 30 * DAY,
      removeRetired: true,
    });
    // A short lifetime: half and a sixth of it.
    const short = policyOf({ request_signing: { ...base.request_signing, key_lifetime_days: 12 } });
    expect([short.prepareBeforeMs, short.activateBeforeMs]).toEqual([6 * DAY, 2 * DAY]);
    // The dwell follows the key documents' max-age.
    expect(policyOf({ key_documents: { max_age_seconds: 300 } }).dwellMs).toBe(720_000);
  });

  it('lets a deployment override [schedule] field by field', () => {
    const raw = {
      schedule: { taint_after_days: 10, remove_retired: false },
      deployments: { partner: { ...partner, schedule: { taint_after_days: 3 } } },
    };
    expect(policyOf(raw, 'default')).toMatchObject({
      taintAfterMs: 10 * DAY,
      removeRetired: false,
    });
    expect(policyOf(raw, 'partner')).toMatchObject({ taintAfterMs: 3 * DAY, removeRetired: false });
  });

  it('refuses a policy that contradicts itself, naming the setting', () => {
    expect(
      refusal({ schedule: { prepare_before_expiry_days: 5, activate_before_expiry_days: 6 } }),
    ).toMatch(
      /^trusted-server\.toml: schedule\.activate_before_expiry_days: activation .* would come before preparation/,
    );
    expect(refusal({ schedule: { activation_dwell_seconds: 100 } })).toMatch(
      /^trusted-server\.toml: schedule\.activation_dwell_seconds: 100 s is shorter than the key documents' cache lifetime .*= 120 s/,
    );
    expect(refusal({ schedule: { prepare_before_expiry_days: 90 } })).toMatch(
      /^trusted-server\.toml: schedule\.prepare_before_expiry_days: .* not inside the key lifetime of 90 days/,
    );
    expect(
      refusal({
        deployments: { partner: { ...partner, schedule: { activate_before_expiry_days: 29.999 } } },
      }),
    ).toMatch(
      /^trusted-server\.toml: deployments\.partner\.schedule\.activate_before_expiry_days: .*shorter than the activation dwell/,
    );
    expect(refusal({ schedule: { taint_after_days: -1 } })).toMatch(
      /^trusted-server\.toml: schedule\.taint_after_days: /,
    );
  });

  it('allows an activation after the dwell, or of a key that signed since it was published', () => {
    const issued = '2026-11-22T09:00:00.000Z';
    const at = Date.parse(issued);
    expect(activationVerdict({ issued_at: issued }, at + 239_999, 240_000)).toEqual({
      allowed: false,
      allowedAt: '2026-11-22T09:04:00.000Z',
    });
    expect(activationVerdict({ issued_at: issued }, at + 240_000, 240_000).allowed).toBe(true);
    // A rollback: it signed after it was published, so partners have it.
    expect(
      activationVerdict({ issued_at: issued, activated_at: issued }, at + 1, 240_000).allowed,
    ).toBe(true);
    // Restored after it signed: published anew, so the dwell counts again.
    expect(
      activationVerdict(
        { issued_at: issued, activated_at: issued, published_at: '2026-12-01T00:00:00.000Z' },
        Date.parse('2026-12-01T00:01:00.000Z'),
        240_000,
      ).allowed,
    ).toBe(false);
  });
});
