// Reading what a failed management-API answer says: the message in its JSON body, and how long
// a rate-limited caller should wait. Kept apart from the transport so both stay small.

/** Longest response body an error carries in its details. */
export const MAX_ERROR_BODY = 300;

/** The body trimmed for error details: whitespace collapsed at the ends, at most 300 chars. */
export function trimBody(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= MAX_ERROR_BODY ? trimmed : `${trimmed.slice(0, MAX_ERROR_BODY - 1)}…`;
}

/**
 * The human part of an error body. Fastly answers `{"msg","detail"}` on most endpoints and
 * JSON:API `{"errors":[{"title","detail"}]}` on some; anything else yields an empty string.
 */
export function describeFailure(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return '';
  }
  if (typeof body !== 'object' || body === null) return '';
  const record = body as Record<string, unknown>;
  const first = Array.isArray(record['errors']) ? (record['errors'][0] as unknown) : undefined;
  const source =
    typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : record;
  const title = firstString(source, ['msg', 'title', 'message', 'error']);
  const detail = firstString(source, ['detail']);
  const summary = title && detail ? `${title} (${detail})` : (title ?? detail ?? '');
  return summary.length > 200 ? `${summary.slice(0, 199)}…` : summary;
}

/**
 * Seconds to wait before the next write, from `Retry-After` (seconds or an HTTP date) or else
 * `Fastly-RateLimit-Reset` (UTC epoch seconds when the hourly window resets); undefined if
 * neither is usable.
 */
export function retryAfterSeconds(headers: Headers, nowMs: number): number | undefined {
  const retryAfter = headers.get('Retry-After')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - nowMs) / 1000));
  }
  const reset = headers.get('Fastly-RateLimit-Reset')?.trim();
  if (reset && /^\d+$/.test(reset)) {
    return Math.max(0, Math.ceil(Number(reset) - nowMs / 1000));
  }
  return undefined;
}

function firstString(record: Record<string, unknown>, names: string[]): string | undefined {
  for (const name of names) {
    const value = record[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}
