// The one rule for request paths: a path the service would have to normalise before routing is
// refused, so a path filter in front of it sees exactly what it serves. Pure checks here; the
// hostile-input table sends the same spellings over real HTTP.
import { describe, expect, it } from 'vitest';
import { isAdminPath, nonCanonical, requestPath } from '../../src/http/canonical-path.js';

describe('canonical paths', () => {
  it.each([
    '/',
    '/admin/keys/rotate',
    '/_ts/admin/keys/sign',
    '/.well-known/jwks.json',
    '/admin/deployments/default/keysets/ts-2025-10-A/activate',
    // Percent-encoded characters that are not unreserved are the canonical spelling of data.
    '/admin/deployments/default/keysets/ts-2025-10-%E2%80%AEA',
    '/admin/keys/rotate%00',
    '/admin/keys/rotate;x=1',
    "/a-b_c.d~e!$&'()*+,;=:@",
    '/..a/a../.a.',
  ])('accepts %s', (path) => {
    expect(nonCanonical(path)).toBeUndefined();
  });

  it.each([
    ['/%61dmin/keys/rotate', 'percent-encoded unreserved'],
    ['/admin/keys/%72otate', 'percent-encoded unreserved'],
    ['/admin/x/%2e%2e/keys', 'percent-encoding in lower case'],
    ['/admin/x/%2E%2E/keys', 'percent-encoded unreserved'],
    ['/admin/keys/rotate%7E', 'percent-encoded unreserved'],
    ['/admin/x/../keys/rotate', '"." or ".." segment'],
    ['/admin/./keys/rotate', '"." or ".." segment'],
    ['/admin/keys/..', '"." or ".." segment'],
    ['/.well-known/../admin/keys/rotate', '"." or ".." segment'],
    ['/admin\\keys\\sign', 'backslash'],
    ['//admin/keys/rotate', 'empty segment'],
    ['/admin//keys/rotate', 'empty segment'],
    ['/admin/keys/rotate/', 'empty segment'],
    ['/admin%2Fkeys%2Frotate', 'encoded "/"'],
    ['/admin/keys/rotate%5C', 'encoded "/"'],
    ['/admin/keys/rotate%252F', 'encoded "/"'],
    ['/admin/keys/%E0%A4%A', 'broken percent-encoding'],
    ['/admin/keys/%zz', 'broken percent-encoding'],
    ['/admin/keys/%FF', 'not UTF-8'],
    ['/admin/keys/%C0%AF', 'not UTF-8'],
    ['/admin/keys/ro tate', 'must be percent-encoded'],
    ['/admin/keys/"rotate"', 'must be percent-encoded'],
    ['/admin/keys/r\u00f6tate', 'must be percent-encoded'],
    ['/admin/keys/rotate#frag', 'must be percent-encoded'],
    ['http://evil.example/admin/keys/rotate', 'origin-form'],
    ['HTTPS://h/admin', 'origin-form'],
    ['*', 'origin-form'],
    ['admin/keys/rotate', 'origin-form'],
    ['', 'origin-form'],
  ])('refuses %s (%s)', (path, reason) => {
    expect(nonCanonical(path)).toContain(reason);
  });
});

describe('the path of a request', () => {
  const request = new Request('https://keys.example/%61dmin/keys/sign?x=..%2F');

  it('is the raw target up to its query when the platform has one', () => {
    expect(requestPath(request, { ip: '1', target: '/x/../admin?a=/../b' })).toBe('/x/../admin');
    expect(requestPath(request, { ip: '1', target: 'http://h/admin?q' })).toBe('http://h/admin');
    expect(requestPath(request, { ip: '1', target: '*' })).toBe('*');
  });

  it('is the path of the URL the runtime gives otherwise, exactly as spelled there', () => {
    expect(requestPath(request, { ip: '1' })).toBe('/%61dmin/keys/sign');
    expect(requestPath(new Request('https://keys.example'), { ip: '1' })).toBe('/');
  });
});

describe('the admin area, however a path is spelled', () => {
  it.each([
    '/admin',
    '/admin/keys/rotate',
    '/_ts/admin/keys/sign',
    '/%61dmin/keys/sign',
    '/%2561dmin/keys',
    '/ADMIN/keys',
    '//admin',
    '/x/../admin/keys',
    '/.well-known/../admin/keys/rotate',
    '/admin\\keys\\sign',
    '/./admin',
    '/_ts//admin/keys',
    '/admin;x=1/keys',
    'http://evil.example/admin/keys/rotate',
    'https://h/_ts/admin/keys/sign',
  ])('counts %s as admin', (path) => {
    expect(isAdminPath(path)).toBe(true);
  });

  it.each([
    '/',
    '/.well-known/jwks.json',
    '/verify-signature',
    '/administrator',
    '/admin/../x',
    '/x/admin',
  ])('does not count %s', (path) => {
    expect(isAdminPath(path)).toBe(false);
  });
});
