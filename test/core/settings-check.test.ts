// The one validation of trusted-server.toml (checkSettings): Trusted Server's own file loads
// unchanged, a key this project does not know in a section it owns is refused with the nearest
// known one, secrets get their own message, and the production target refuses placeholders.
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { TskError } from '../../src/core/errors.js';
import {
  additionsToTrustedServer,
  checkSettings,
  ignoredSettingsLine,
  parseSettings,
  type SettingsOptions,
} from '../../src/core/settings.js';
import { classifyKeys, editDistance, nearest } from '../../src/core/settings-keys.js';

const fixture = (name: string): Record<string, unknown> =>
  parse(readFileSync(`test/fixtures/trusted-server/${name}`, 'utf8'));
const REPO_FILE = parse(readFileSync('trusted-server.toml', 'utf8'));

/** The message of the not_configured error `checkSettings` throws; fails the test otherwise. */
function refusal(raw: unknown, options?: SettingsOptions): string {
  try {
    checkSettings(raw, options);
  } catch (err) {
    expect(err).toBeInstanceOf(TskError);
    expect((err as TskError).code).toBe('not_configured');
    return (err as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}

const REAL_IDS = {
  publisher: { domain: 'www.news-site.co.uk' },
  request_signing: {
    config_store_id: '5xJ1pQm9TnW3aZbC7dEfGh',
    secret_store_id: '2kLmN4oPqR6sT8uVwXyZ0a',
    lock_store_id: 'a1b2c3d4e5f6g7h8i9j0kl',
  },
};

describe("Trusted Server's own trusted-server.toml", () => {
  // Copies of Trusted Server's files (IABTechLab/trusted-server): trusted-server.toml as last
  // committed (a2b9e061, before it became operator-owned) and trusted-server.example.toml at
  // d97bda69, the template `ts config init` now writes as trusted-server.toml.
  it('loads the committed trusted-server.toml unchanged, listing what it ignores', () => {
    const { settings, ignored } = checkSettings(fixture('trusted-server.toml'));
    expect(ignored).toEqual([
      '[[handlers]]',
      'publisher.cookie_domain',
      'publisher.origin_url',
      'publisher.proxy_secret',
      '[tester_cookie]',
      '[ec]',
      '[integrations]',
      '[proxy]',
      '[auction]',
    ]);
    expect(settings.publisher.domain).toBe('test-publisher.com');
    expect(settings.request_signing).toEqual({
      enabled: false,
      config_store_id: '<fastly-config-store-id>',
      secret_store_id: '<fastly-secret-store-id>',
      key_lifetime_days: 90,
    });
    expect(settings.admin.requests_per_minute).toBe(60);
  });

  it('loads the current example file unchanged, listing what it ignores', () => {
    const { settings, ignored } = checkSettings(fixture('trusted-server.example.toml'));
    expect(ignored).toEqual([
      '[[handlers]]',
      'publisher.cookie_domain',
      'publisher.origin_url',
      'publisher.proxy_secret',
      '[ec]',
      '[integrations]',
      '[proxy]',
      '[auction]',
      '[debug]',
      '[creative_opportunities]',
    ]);
    expect(settings.publisher.domain).toBe('example.com');
    expect(settings.request_signing.config_store_id).toBe('app_config');
  });

  it("keeps none of Trusted Server's secrets in the settings it returns (the build embeds them)", () => {
    for (const name of ['trusted-server.toml', 'trusted-server.example.toml']) {
      const embedded = JSON.stringify(checkSettings(fixture(name)).settings);
      for (const secret of [
        'change-me-proxy-secret',
        'replace-with-admin-password',
        'local-dev-passphrase',
        'trusted-server-placeholder-secret',
      ]) {
        expect(embedded, `${name}: ${secret}`).not.toContain(secret);
      }
    }
  });

  it('accepts every key Trusted Server defines in [publisher] and [request_signing]', () => {
    const { ignored } = checkSettings({
      publisher: {
        domain: 'a.com',
        cookie_domain: '.a.com',
        origin_url: 'https://origin.a.com',
        origin_host_header_override: 'www.a.com',
        proxy_secret: 'x',
        max_buffered_body_bytes: 1,
      },
      request_signing: { enabled: true, config_store_id: 'c', secret_store_id: 's' },
    });
    expect(ignored).toEqual([
      'publisher.cookie_domain',
      'publisher.origin_url',
      'publisher.origin_host_header_override',
      'publisher.proxy_secret',
      'publisher.max_buffered_body_bytes',
    ]);
  });

  it('ignores a section neither project knows (a later Trusted Server), listing it', () => {
    expect(checkSettings({ partner_feeds: { enabled: true }, banner: 'x' }).ignored).toEqual([
      '[partner_feeds]',
      'banner',
    ]);
  });

  it('prints what it ignored as one line naming the file', () => {
    expect(ignoredSettingsLine('ts.toml', ['[[handlers]]', '[ec]'])).toBe(
      "ts.toml: ignored, not used by this service (Trusted Server's settings): [[handlers]], [ec]",
    );
    expect(ignoredSettingsLine('ts.toml', [])).toBeUndefined();
  });
});

describe('every setting has a default', () => {
  it('takes an empty file, with placeholder store ids and domain', () => {
    const { settings, ignored } = checkSettings({});
    expect(ignored).toEqual([]);
    expect(settings.publisher.domain).toBe('publisher.example');
    expect(settings.request_signing).toEqual({
      config_store_id: 'REPLACE_WITH_JWKS_STORE_ID',
      secret_store_id: 'REPLACE_WITH_SIGNING_KEYS_STORE_ID',
      key_lifetime_days: 90,
    });
    expect(settings.deployments).toEqual({});
    expect(settings.verify.requests_per_minute).toBe(600);
  });

  it('reads the repository file with [request_signing] enabled = true, as Trusted Server needs', () => {
    expect(parseSettings(REPO_FILE).request_signing.enabled).toBe(true);
  });
});

describe('unknown keys in the sections this project owns', () => {
  const cases: [string, unknown, string][] = [
    [
      'a typo in [admin]',
      { admin: { requests_per_minut: 5 } },
      'trusted-server.toml: admin.requests_per_minut: unknown key (did you mean requests_per_minute?)',
    ],
    [
      'a typo in [verify]',
      { verify: { request_per_minute: 5 } },
      'trusted-server.toml: verify.request_per_minute: unknown key (did you mean requests_per_minute?)',
    ],
    [
      'a typo in [fastly_api]',
      { fastly_api: { timout_ms: 1000 } },
      'trusted-server.toml: fastly_api.timout_ms: unknown key (did you mean timeout_ms?)',
    ],
    [
      'a typo in [local_edge]',
      { local_edge: { max_connection_per_client: 3 } },
      'trusted-server.toml: local_edge.max_connection_per_client: unknown key (did you mean max_connections_per_client?)',
    ],
    [
      'a shortened key in [deployments.NAME]',
      {
        deployments: {
          eu: {
            config_store: 'jwks_eu',
            config_store_id: 'c',
            secret_store: 'keys_eu',
            secret_store_id: 's',
            key_lifetime: 30,
          },
        },
      },
      'trusted-server.toml: deployments.eu.key_lifetime: unknown key (did you mean key_lifetime_days?)',
    ],
    [
      'a typo in [publisher] (Trusted Server refuses it too)',
      { publisher: { domian: 'a.com' } },
      'trusted-server.toml: publisher.domian: unknown key (did you mean domain?)',
    ],
    [
      'a typo in [request_signing]',
      { request_signing: { lock_store: 'k' } },
      'trusted-server.toml: request_signing.lock_store: unknown key (did you mean lock_store_id?)',
    ],
    [
      'a key nothing resembles, listing what the section takes',
      { admin: { colour: 'red' } },
      'trusted-server.toml: admin.colour: unknown key ([admin] takes requests_per_minute, auth_failures_per_minute, penalty_minutes, audit_log_endpoint)',
    ],
    [
      'a misspelt section of this project',
      { admn: { requests_per_minute: 5 } },
      'trusted-server.toml: [admn]: unknown section (did you mean [admin]?)',
    ],
    [
      "a key above every section header that is one of this project's",
      { requests_per_minute: 5 },
      'trusted-server.toml: requests_per_minute: a key outside every section (did you mean admin.requests_per_minute or verify.requests_per_minute?)',
    ],
  ];
  it.each(cases)('refuses %s, naming the nearest known key', (_, raw, message) => {
    expect(refusal(raw)).toBe(message);
  });

  it('names every unknown key at once, and puts them in details without values', () => {
    try {
      checkSettings({ admin: { penalty_minute: 1 }, verify: { rpm: 2 } });
      expect.unreachable();
    } catch (err) {
      expect((err as TskError).details).toEqual({
        unknown: [
          { path: 'admin.penalty_minute', suggestion: 'penalty_minutes' },
          { path: 'verify.rpm' },
        ],
      });
    }
  });

  it('refuses them for the production target as for the local one', () => {
    expect(
      refusal({ ...REAL_IDS, admin: { requests_per_minut: 5 } }, { target: 'production' }),
    ).toBe(
      'trusted-server.toml: admin.requests_per_minut: unknown key (did you mean requests_per_minute?)',
    );
  });

  it('names the file it was given', () => {
    expect(refusal({ verify: { x: 1 } }, { file: 'conf/ts.toml' })).toMatch(
      /^conf\/ts\.toml: verify\.x:/,
    );
  });

  it('walks a section added to the schema with no list to update (nested records and objects)', () => {
    const schema = z.object({
      deployments: z._default(
        z.record(
          z.string(),
          z.object({
            config_store: z.string(),
            schedule: z.optional(z.object({ rotate_every_days: z.number() })),
          }),
        ),
        {},
      ),
    });
    const report = classifyKeys(
      { deployments: { eu: { config_store: 'x', schedule: { rotate_every_day: 3 } } } },
      schema,
    );
    expect(report.unknown).toEqual([
      {
        path: 'deployments.eu.schedule.rotate_every_day',
        suggestion: 'rotate_every_days',
        known: ['rotate_every_days'],
        secret: false,
      },
    ]);
  });
});

describe('secrets in the settings file', () => {
  it('refuses a key named like a secret with its own message, never echoing the value', () => {
    const message = refusal({ fastly_api: { api_token: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345' } });
    expect(message).toBe(
      'trusted-server.toml: fastly_api.api_token: named like a secret. This file is embedded in the wasm and kept in git; secrets belong in secret stores (the Fastly API token in api-keys as api_key, admin tokens in admin_tokens, signing keys in signing_keys), never here',
    );
    expect(message).not.toContain('AbCdEfGh');
  });

  it.each([
    ['admin', 'password'],
    ['admin', 'operator_token'],
    ['request_signing', 'private_key'],
    ['verify', 'api_key'],
  ])('refuses [%s] %s as a secret', (section, key) => {
    expect(refusal({ [section]: { [key]: 'v' } })).toContain(
      `${section}.${key}: named like a secret`,
    );
  });

  it('refuses a secret-named key above every section', () => {
    expect(refusal({ fastly_token: 'v' })).toContain('fastly_token: named like a secret');
  });

  it("does not flag Trusted Server's own secret keys nor this project's public signing key", () => {
    const { ignored } = checkSettings({
      publisher: { domain: 'a.com', proxy_secret: 'p' },
      fastly_api: { secret_signing_key: 'CrO/A92vkxEZjtTW7D/Sr+1EMf/q9BahC0sfLkWa+0k=' },
      ec: { passphrase: 'x' },
    });
    expect(ignored).toEqual(['publisher.proxy_secret', '[ec]']);
  });
});

describe('the production target', () => {
  it('accepts real store ids and domain', () => {
    expect(checkSettings(REAL_IDS, { target: 'production' }).settings.request_signing).toEqual({
      ...REAL_IDS.request_signing,
      key_lifetime_days: 90,
    });
  });

  it("refuses the repository file's placeholders, saying what to put in each", () => {
    expect(refusal(REPO_FILE, { target: 'production' })).toBe(
      [
        'trusted-server.toml is not ready for a production build:',
        `  - publisher.domain: "publisher.example" is a placeholder; put your publisher's domain (the host bound into signed requests, as in Trusted Server's [publisher] domain)`,
        '  - request_signing.config_store_id: "REPLACE_WITH_JWKS_STORE_ID" is a placeholder; put the id of the Config Store linked as jwks_store (`npx fastly config-store list`)',
        '  - request_signing.secret_store_id: "REPLACE_WITH_SIGNING_KEYS_STORE_ID" is a placeholder; put the id of the Secret Store linked as signing_keys (`npx fastly secret-store list`)',
        '  - request_signing.lock_store_id: "REPLACE_WITH_KEYRING_LOCKS_STORE_ID" is a placeholder; put the id of the KV Store linked as keyring_locks (`npx fastly kv-store list`), or remove the line (key changes then answer 503 not_configured)',
        '(`npm run build:local` builds with placeholders, for npm run serve and the tests.)',
      ].join('\n'),
    );
  });

  it('refuses store ids and a domain that are not set', () => {
    const message = refusal({}, { target: 'production' });
    expect(message).toContain("publisher.domain: not set; put your publisher's domain");
    expect(message).toContain(
      'request_signing.config_store_id: not set; put the id of the Config Store linked as jwks_store',
    );
    expect(message).toContain(
      'request_signing.secret_store_id: not set; put the id of the Secret Store linked as signing_keys',
    );
  });

  it("refuses Trusted Server's placeholders: <...> ids and example.com", () => {
    expect(refusal(fixture('trusted-server.toml'), { target: 'production' })).toContain(
      'request_signing.config_store_id: "<fastly-config-store-id>" is a placeholder',
    );
    expect(refusal(fixture('trusted-server.example.toml'), { target: 'production' })).toContain(
      'publisher.domain: "example.com" is a placeholder',
    );
  });

  it.each(['publisher.example', 'example.com', 'www.example.org', 'keys.test', 'localhost'])(
    'refuses the reserved domain %s',
    (domain) => {
      expect(refusal({ ...REAL_IDS, publisher: { domain } }, { target: 'production' })).toContain(
        `publisher.domain: "${domain}" is a placeholder`,
      );
    },
  );

  it("refuses a store's name given for its id (Trusted Server's example file)", () => {
    const message = refusal(
      { ...REAL_IDS, request_signing: { config_store_id: 'app_config', secret_store_id: 'x1' } },
      { target: 'production' },
    );
    expect(message).toBe(
      [
        'trusted-server.toml is not ready for a production build:',
        '  - request_signing.config_store_id: "app_config" is not a store id (ids are letters and digits; this looks like a name); put the id of the Config Store linked as jwks_store (`npx fastly config-store list`)',
        '(`npm run build:local` builds with placeholders, for npm run serve and the tests.)',
      ].join('\n'),
    );
  });

  it('refuses the placeholder ids of another deployment, naming its stores', () => {
    const message = refusal(
      {
        ...REAL_IDS,
        deployments: {
          eu: {
            config_store: 'jwks_eu',
            config_store_id: 'REPLACE_WITH_EU_JWKS_ID',
            secret_store: 'keys_eu',
            secret_store_id: '<eu>',
          },
        },
      },
      { target: 'production' },
    );
    expect(message).toContain(
      'deployments.eu.config_store_id: "REPLACE_WITH_EU_JWKS_ID" is a placeholder; put the id of the Config Store linked as jwks_eu',
    );
    expect(message).toContain(
      'deployments.eu.secret_store_id: "<eu>" is a placeholder; put the id of the Secret Store linked as keys_eu',
    );
  });

  it('lets the lock store be left out (changes then answer 503)', () => {
    const { lock_store_id: _, ...withoutLock } = REAL_IDS.request_signing;
    expect(
      checkSettings({ ...REAL_IDS, request_signing: withoutLock }, { target: 'production' })
        .settings.request_signing.lock_store_id,
    ).toBeUndefined();
  });

  it('accepts the placeholders for the local target', () => {
    expect(checkSettings(REPO_FILE, { target: 'local' }).settings.publisher.domain).toBe(
      'publisher.example',
    );
  });
});

describe('bad values', () => {
  const cases: [unknown, string][] = [
    [{ verify: 3 }, 'verify: must be a table'],
    [{ admin: { penalty_minutes: 100 } }, 'admin.penalty_minutes: at most 60'],
    [{ admin: { penalty_minutes: '5' } }, 'admin.penalty_minutes: must be a number'],
    [{ admin: { penalty_minutes: 1.5 } }, 'admin.penalty_minutes: must be a whole number'],
    [{ publisher: { domain: '' } }, 'publisher.domain: at least 1 character(s)'],
    [{ fastly_api: { endpoint: 'nope' } }, 'fastly_api.endpoint: must be a URL'],
    [
      { fastly_api: { secret_signing_key: 'zz' } },
      'fastly_api.secret_signing_key: base64 of 32 bytes',
    ],
    [{ deployments: { Bad: {} } }, 'deployments.Bad: not a valid name (/^[a-z][a-z0-9_-]{0,63}$/)'],
    [
      { deployments: { default: {} } },
      'deployments.default: not a valid name: default is [request_signing]',
    ],
    [
      {
        deployments: {
          eu: { config_store: 'jwks_eu', secret_store: 'keys_eu', secret_store_id: 's' },
        },
      },
      'deployments.eu.config_store_id: missing',
    ],
  ];
  it.each(cases)('refuses %j, saying what the value must be', (raw, message) => {
    expect(refusal(raw)).toBe(`trusted-server.toml: ${message}`);
  });
});

describe('docs/configuration.md on sharing one file with Trusted Server', () => {
  it("lists every section and key of this service that Trusted Server's settings do not define", () => {
    const doc = readFileSync('docs/configuration.md', 'utf8');
    const start = doc.indexOf('## Sharing one file with Trusted Server');
    expect(start).toBeGreaterThan(0);
    const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
    const additions = additionsToTrustedServer();
    expect(additions).toContain('[admin]');
    expect(additions).toContain('request_signing.lock_store_id');
    // `[deployments]` is written `[deployments.NAME]` there.
    for (const addition of additions) expect(section).toContain(addition.replace(/]$/, ''));
  });
});

describe('nearest known key', () => {
  it('measures typos as edits, an adjacent swap as one', () => {
    expect(editDistance('requests_per_minut', 'requests_per_minute')).toBe(1);
    expect(editDistance('admn', 'admin')).toBe(1);
    expect(editDistance('verfiy', 'verify')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only what is close, and reads dashes as underscores', () => {
    expect(nearest('fastly-api', ['admin', 'fastly_api'])).toBe('fastly_api');
    expect(nearest('ec', ['admin', 'verify'])).toBeUndefined();
    expect(nearest('cache', ['admin', 'verify', 'publisher'])).toBeUndefined();
    expect(nearest('colour', ['requests_per_minute', 'penalty_minutes'])).toBeUndefined();
  });
});
