// The whole service as one function: (Request, Services) => Response.
import type { Services } from './services.js';

/** Answers one request. Never throws: every failure becomes a response. */
export async function handle(request: Request, services: Services): Promise<Response> {
  void services;
  return new Response(`not implemented: ${new URL(request.url).pathname}`, { status: 501 });
}
