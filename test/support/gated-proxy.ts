// A loopback HTTP proxy that can hold chosen requests until the test releases them: a
// deterministic gate for races (no sleeps). Point a client's endpoint at `url` and set `target`
// to where requests really go.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running proxy. */
export interface GatedProxy {
  /** Base URL of the proxy, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Where requests are forwarded (the real server's base URL); set before the first request. */
  target: string;
  /** Holds every later request for which `match` is true, until `release()`. */
  hold(match: (method: string, path: string) => boolean): void;
  /** How many requests are waiting at the gate now. */
  readonly heldCount: number;
  /** How many requests the gate has held in all. */
  readonly heldTotal: number;
  /** Called each time a request arrives at the gate (after it is counted). */
  onHeld: () => void;
  /** Lets every held request through, and every later one. */
  release(): void;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a gated proxy on a free loopback port. */
export async function startGatedProxy(): Promise<GatedProxy> {
  let match: ((method: string, path: string) => boolean) | undefined;
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  let held = 0;
  let heldTotal = 0;

  const server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      if (gate && match?.(method, path)) {
        held += 1;
        heldTotal += 1;
        proxy.onHeld();
        await gate;
        held -= 1;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (name === 'host' || name === 'connection' || name === 'content-length') continue;
        if (typeof value === 'string') headers.set(name, value);
      }
      const answer = await fetch(`${proxy.target}${path}`, {
        method,
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const out = Buffer.from(await answer.arrayBuffer());
      const outHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection')
          outHeaders[name] = value;
      });
      res.writeHead(answer.status, outHeaders).end(out);
    })().catch((err: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`gated proxy: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const proxy: GatedProxy = {
    url: `http://127.0.0.1:${port}`,
    target: '',
    hold(m) {
      match = m;
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    get heldCount() {
      return held;
    },
    get heldTotal() {
      return heldTotal;
    },
    onHeld: () => undefined,
    release() {
      gate = undefined;
      open();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return proxy;
}
