// The in-place TOML edit `tsctl setup` writes store ids with: only the quoted values change.
import { describe, expect, it } from 'vitest';
import { setStringValues } from '../../src/cli/toml-values.js';

const FILE = [
  '# top comment',
  '[publisher]',
  'config_store_id = "not this section"',
  '',
  '[request_signing]   # the keys',
  "config_store_id = 'REPLACE_ME'  # literal string, comment kept",
  '  secret_store_id="<fastly-secret-store-id>"',
  'key_lifetime_days = 90',
  '',
  '[[handlers]]',
  'secret_store_id = "in an array table"',
  '',
].join('\r\n');

describe('setStringValues', () => {
  it('changes only the quoted values of the keys in the section, keeping every other byte', () => {
    const edit = setStringValues(FILE, 'request_signing', {
      config_store_id: 'abc123',
      secret_store_id: 'def456',
      lock_store_id: 'ghi789',
    });
    expect(edit.text).toBe(
      FILE.replace("'REPLACE_ME'", "'abc123'").replace('"<fastly-secret-store-id>"', '"def456"'),
    );
    expect(edit.changed).toEqual([
      { key: 'config_store_id', from: 'REPLACE_ME', to: 'abc123' },
      { key: 'secret_store_id', from: '<fastly-secret-store-id>', to: 'def456' },
    ]);
    expect(edit.missing).toEqual(['lock_store_id']);
  });

  it('changes nothing when the values are already there', () => {
    const once = setStringValues(FILE, 'request_signing', { config_store_id: 'abc' }).text;
    const twice = setStringValues(once, 'request_signing', { config_store_id: 'abc' });
    expect(twice.text).toBe(once);
    expect(twice.changed).toEqual([]);
  });

  it('refuses a key that is not a one-line string, and a value that is not a store id', () => {
    expect(() =>
      setStringValues('[request_signing]\nconfig_store_id = 12\n', 'request_signing', {
        config_store_id: 'abc',
      }),
    ).toThrow('[request_signing] config_store_id is not a one-line string');
    expect(() =>
      setStringValues('[request_signing]\nconfig_store_id = ""\n', 'request_signing', {
        config_store_id: 'a"b',
      }),
    ).toThrow('is not a store id');
  });

  it('writes a host name (dots) only when asked for one; a store id never has a dot', () => {
    const text = '[publisher]\r\ndomain = "publisher.example" # the host\r\n';
    expect(() => setStringValues(text, 'publisher', { domain: 'news.site.com' })).toThrow(
      'is not a store id',
    );
    const edit = setStringValues(text, 'publisher', { domain: 'news.site.com' }, 'host');
    expect(edit.text).toBe('[publisher]\r\ndomain = "news.site.com" # the host\r\n');
    expect(edit.changed).toEqual([
      { key: 'domain', from: 'publisher.example', to: 'news.site.com' },
    ]);
    expect(() => setStringValues(text, 'publisher', { domain: 'a"b.com' }, 'host')).toThrow(
      'is not a host name',
    );
  });

  it('edits the top level with section "" and nothing under a header', () => {
    const text = 'name = "x"\nservice_id = ""\n\n[scripts]\nservice_id = "keep"\n';
    const edit = setStringValues(text, '', { service_id: 'Svc123' });
    expect(edit.text).toBe('name = "x"\nservice_id = "Svc123"\n\n[scripts]\nservice_id = "keep"\n');
  });
});
