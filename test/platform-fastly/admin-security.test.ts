// The Fastly RateLimiter and AuditSink adapters against hand-written `fastly:*` fakes.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { edgeRateLimiter, logEndpointAuditSink } from '../../src/platform/fastly/admin-security.js';
import type { AuditRecord } from '../../src/core/ports.js';
import { rateLimiterState } from './fakes/fastly-edge-rate-limiter.js';
import { logEndpoints } from './fakes/fastly-logger.js';

const record: AuditRecord = {
  time: '2026-11-22T09:00:00.000Z',
  request_id: 'abc',
  actor: 'ops1',
  client_ip: '192.0.2.1',
  method: 'POST',
  route: '/admin/keys/rotate',
  path: '/admin/keys/rotate',
  deployment: 'default',
  keyset: 'ts-2026-11-22',
  operation: 'rotate',
  outcome: 'allowed',
  status: 200,
  error_code: null,
  keyring_version_before: 1,
  keyring_version_after: 2,
  settled: null,
};

const silent = { log: () => undefined };

beforeEach(() => {
  rateLimiterState.counts.clear();
  rateLimiterState.boxed.clear();
  logEndpoints.clear();
});

describe('edgeRateLimiter', () => {
  it('counts per counter and key over the 60 s duration', async () => {
    const limiter = edgeRateLimiter(15, silent);
    expect(await limiter.increment('admin_requests', 'ip:1')).toBe(1);
    expect(await limiter.increment('admin_requests', 'ip:1')).toBe(2);
    expect(await limiter.increment('auth_failures', 'ip:1')).toBe(1);
    expect(await limiter.increment('admin_requests', 'ip:2')).toBe(1);
  });

  it('counts verifications under a rate counter of their own, apart from admin requests', async () => {
    const limiter = edgeRateLimiter(15, silent);
    expect(await limiter.increment('verify_requests', 'ip:1')).toBe(1);
    expect(await limiter.increment('verify_requests', 'ip:1')).toBe(2);
    expect(await limiter.increment('admin_requests', 'ip:1')).toBe(1);
    expect([...rateLimiterState.counts.keys()].sort()).toEqual([
      'tsk_admin_requests/ip:1',
      'tsk_verify_requests/ip:1',
    ]);
  });

  it('boxes a key for a TTL Fastly accepts and reports the configured wait', async () => {
    const limiter = edgeRateLimiter(15, silent);
    expect(await limiter.penaltySeconds('ip:1')).toBe(0);
    await limiter.penalize('ip:1', 90); // clamped to Fastly's 60-minute maximum
    expect([...rateLimiterState.boxed.values()]).toEqual([60]);
    expect(await limiter.penaltySeconds('ip:1')).toBe(900);
  });
});

describe('edgeRateLimiter without Edge Rate Limiting on the service', () => {
  it('lets requests through and logs rate_limiter_unavailable for every call', async () => {
    const lines: string[] = [];
    const limiter = edgeRateLimiter(15, { log: (_level, event) => void lines.push(event) });
    rateLimiterState.unavailable = true;
    try {
      expect(await limiter.increment('admin_requests', 'ip:1')).toBe(0);
      expect(await limiter.penaltySeconds('ip:1')).toBe(0);
      await limiter.penalize('ip:1', 5);
    } finally {
      rateLimiterState.unavailable = false;
    }
    expect(lines).toEqual([
      'rate_limiter_unavailable',
      'rate_limiter_unavailable',
      'rate_limiter_unavailable',
    ]);
  });
});

describe('logEndpointAuditSink', () => {
  it('sends one JSON line to the named endpoint', async () => {
    logEndpoints.set('audit', []);
    await logEndpointAuditSink('audit').write(record);
    expect(logEndpoints.get('audit')?.map((l) => JSON.parse(l))).toEqual([
      { audit: true, ...record },
    ]);
  });

  it('falls back to stdout, marked, when the endpoint is not configured', async () => {
    const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await logEndpointAuditSink('missing').write(record);
      expect(JSON.parse(String(spy.mock.calls[0]?.[0]))).toMatchObject({
        audit_endpoint_missing: 'missing',
        request_id: 'abc',
      });
    } finally {
      spy.mockRestore();
    }
  });
});
