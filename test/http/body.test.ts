// `parseBody`, the one way a route reads and validates its JSON body: refusals are 400
// invalid_request naming the first bad field's path and the body the route expects.
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { bodyRule, NO_FIELDS, parseBody } from '../../src/http/body.js';

const post = (body?: string) =>
  new Request('https://keys.example/x', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });

const DEACTIVATE = bodyRule(
  z.object({ kid: z.string(), opts: z.optional(z.object({ delete: z.boolean() })) }),
  '{"kid": "<kid>"}',
);
const NEW_KID = bodyRule(z.object({ kid: z.optional(z.string()) }), '{} or {"kid"}', {
  optional: true,
});

describe('parseBody', () => {
  it('answers the typed body', async () => {
    expect(await parseBody(post('{"kid":"a","opts":{"delete":true}}'), DEACTIVATE)).toEqual({
      kid: 'a',
      opts: { delete: true },
    });
  });

  it.each([
    ['{"kid":7}', 'invalid request body at kid: expected {"kid": "<kid>"}'],
    [
      '{"kid":"a","opts":{"delete":"yes"}}',
      'invalid request body at opts.delete: expected {"kid": "<kid>"}',
    ],
    ['[1]', 'invalid request body at body: expected {"kid": "<kid>"}'],
    ['null', 'invalid request body at body: expected {"kid": "<kid>"}'],
    [undefined, 'a JSON body is required: expected {"kid": "<kid>"}'],
  ])('refuses %s with 400 naming the field', async (body, message) => {
    await expect(parseBody(post(body), DEACTIVATE)).rejects.toMatchObject({
      code: 'invalid_request',
      message,
    });
  });

  it('takes an absent optional body as {}, but judges null as sent', async () => {
    expect(await parseBody(post(), NEW_KID)).toEqual({});
    await expect(parseBody(post('null'), NEW_KID)).rejects.toMatchObject({
      message: 'invalid request body at body: expected {} or {"kid"}',
    });
  });

  it('still bounds and types a body that carries no fields', async () => {
    expect(await parseBody(post(), NO_FIELDS)).toEqual({});
    expect(await parseBody(post('[1,2]'), NO_FIELDS)).toEqual([1, 2]);
    await expect(parseBody(post('{'), NO_FIELDS)).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(parseBody(post(`"${'x'.repeat(5000)}"`), NO_FIELDS)).rejects.toMatchObject({
      code: 'payload_too_large',
    });
  });
});
