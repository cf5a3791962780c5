// Request bodies as Fastly takes them: form encoding for config stores and their single items,
// JSON for bulk item updates, secret stores and KV stores.
import { badRequest } from './errors.js';

/** Largest request body accepted; larger ones get 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Form fields of an `application/x-www-form-urlencoded` body (unknown fields are ignored). */
export function formBody(body: Buffer): URLSearchParams {
  const text = utf8(body);
  // URLSearchParams accepts anything; a JSON body would silently become one odd field name.
  if (/^\s*[[{]/.test(text)) {
    throw badRequest('Expected a form-encoded body (application/x-www-form-urlencoded)');
  }
  return new URLSearchParams(text);
}

/** A required form field. */
export function formField(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (value === null) throw badRequest(`Missing required field: ${name}`);
  return value;
}

/** A JSON object body. */
export function jsonBody(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8(body));
  } catch (err) {
    throw badRequest('Malformed JSON in the request body', (err as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('The request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** A required string member of a JSON body. */
export function jsonString(obj: Record<string, unknown>, name: string, where = 'body'): string {
  const value = obj[name];
  if (typeof value !== 'string') throw badRequest(`${where}: "${name}" must be a string`);
  return value;
}

function utf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw badRequest('The request body is not valid UTF-8');
  }
}
