// The HTTP server: reads the body (≤ 1 MiB, else 413), checks `Fastly-Key` (401 with Fastly's
// own message), serves the fault control route, applies injected faults, routes, and answers
// JSON errors `{"msg","detail"?}`.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_BODY_BYTES } from './body.js';
import { MAX_PACKAGE_BYTES, PACKAGE_PATH } from './packages.js';
import { createClientKeys } from './client-keys.js';
import { Database, STATE_FILE, loadState, prepareStateDir } from './database.js';
import { ApiError, badRequest, errorBody } from './errors.js';
import { claimStateDir, releaseStateDir, updateClaim } from './instance-lock.js';
import { FaultRegistry, faultsFromEnv, parseFaultSpecs } from './faults.js';
import { WriteBudget } from './rate-limit.js';
import type { Reply, Router } from './router.js';
import { MethodNotAllowed, json } from './router.js';
import { createRouter } from './routes.js';
import { createStateView } from './state-view.js';
import { TOKEN_FILE, loadOrCreateToken, tokenMatches } from './token.js';
import type { LocalApi, LocalApiOptions, RequestLogEntry } from './types.js';

/** Fastly's answer to a missing or wrong token (seen in fastly/fastly-js#14). */
const UNAUTHORIZED = new ApiError(401, 'Provided credentials are missing or invalid');

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** An injected fault's "no answer at all": the connection is closed instead. */
const DROP = Symbol('drop');

/** The control route that arms, lists and disarms faults from outside the process. */
export const FAULTS_PATH = '/__local/faults';

/** Reads the whole body; past the limit it keeps draining (so the client sees the 413). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= limit) resolve(Buffer.concat(chunks));
      else reject(new ApiError(413, 'Request body too large', `limit is ${limit} bytes`));
    });
    req.on('error', reject);
  });
}

function fromReply(reply: Reply): Answer {
  if (reply.json !== undefined) {
    const headers = { 'content-type': 'application/json', ...reply.headers };
    return { status: reply.status, headers, body: JSON.stringify(reply.json) };
  }
  return { status: reply.status, headers: { ...reply.headers }, body: reply.raw ?? '' };
}

function fromError(err: unknown): Answer {
  const error =
    err instanceof ApiError
      ? err
      : new ApiError(
          500,
          'Internal Server Error',
          err instanceof Error ? err.message : String(err),
        );
  const headers: Record<string, string> = error.emptyBody
    ? {}
    : { 'content-type': 'application/json' };
  if (error instanceof MethodNotAllowed) headers['allow'] = error.allow.join(', ');
  return { status: error.status, headers, body: errorBody(error) };
}

interface Pipeline {
  token: string;
  db: Database;
  router: Router;
  faults: FaultRegistry;
  budget: WriteBudget;
}

async function answer(
  p: Pipeline,
  req: IncomingMessage,
  method: string,
  url: string,
): Promise<Answer | typeof DROP> {
  const [rawPath = '/', rawQuery = ''] = url.split(/\?(.*)/s);
  try {
    // A Compute package is far larger than any other body the API takes.
    const body = await readBody(
      req,
      method === 'PUT' && PACKAGE_PATH.test(rawPath) ? MAX_PACKAGE_BYTES : MAX_BODY_BYTES,
    );
    const key = req.headers['fastly-key'];
    if (!tokenMatches(p.token, Array.isArray(key) ? key[0] : key)) throw UNAUTHORIZED;
    // Faults never apply to their own control route, so a runaway fault can always be disarmed.
    if (rawPath === FAULTS_PATH) return fromReply(controlFaults(p.faults, method, body));
    const fault = p.faults.take(method, rawPath);
    if (fault !== undefined && fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault?.mode === 'before') {
      if (fault.drop) return DROP;
      if (fault.failure !== undefined) return injectedFailure(p, fault.failure);
    }
    // From here on nothing awaits: the handler's read-modify-write of the state is atomic.
    let result: Answer;
    try {
      const { handler, params } = p.router.resolve(method, rawPath);
      const query = new URLSearchParams(rawQuery);
      const reply = handler({ method, params, query, headers: req.headers, body, db: p.db });
      result = fromReply(reply);
      if (method !== 'GET') Object.assign(result.headers, p.budget.spend());
    } catch (err) {
      result = fromError(err);
    }
    // `after`: the request was handled (a write landed); the client hears failure or nothing.
    if (fault?.mode === 'after') {
      if (fault.drop) return DROP;
      if (fault.failure !== undefined) return injectedFailure(p, fault.failure);
    }
    return result;
  } catch (err) {
    return fromError(err);
  }
}

function injectedFailure(p: Pipeline, failure: { status: number; body: string }): Answer {
  const headers = { 'content-type': 'application/json' };
  // A 429 carries the headers that tell a client when it may write again, as Fastly's do.
  if (failure.status === 429) Object.assign(headers, p.budget.exhausted());
  return { status: failure.status, headers, body: failure.body };
}

/** `GET` lists the armed faults, `POST` arms a spec or an array of them, `DELETE` disarms all. */
function controlFaults(faults: FaultRegistry, method: string, body: Buffer): Reply {
  if (method === 'POST') {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw badRequest('Malformed JSON in the request body', (err as Error).message);
    }
    // Every spec is checked before any is armed: a bad array arms nothing.
    for (const spec of parseFaultSpecs(value)) faults.add(spec);
  } else if (method === 'DELETE') {
    faults.clear();
  } else if (method !== 'GET') {
    throw new MethodNotAllowed(['GET', 'POST', 'DELETE']);
  }
  return json(200, { data: faults.list() });
}

function send(res: ServerResponse, a: Answer): void {
  const headers: Record<string, string | number> = { 'cache-control': 'no-store', ...a.headers };
  if (a.status !== 204 && a.status !== 304) headers['content-length'] = Buffer.byteLength(a.body);
  res.writeHead(a.status, headers);
  res.end(a.status === 204 ? undefined : a.body);
}

/** The longest edge lag the local API simulates. */
const MAX_PROPAGATION_DELAY_MS = 600_000;

/** `TSK_PROPAGATION_DELAY_MS`: how far edge reads lag the API (unset or empty: 0). */
export function propagationDelayFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) > MAX_PROPAGATION_DELAY_MS) {
    throw new Error(
      `TSK_PROPAGATION_DELAY_MS must be a whole number of milliseconds from 0 to ${MAX_PROPAGATION_DELAY_MS}, not ${JSON.stringify(raw.slice(0, 32))}`,
    );
  }
  return Number(raw);
}

/** Starts the local Fastly management API; resolves once it is listening. */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  // Before anything is read: a second process on the same directory would lose writes.
  claimStateDir(options.stateDir);
  try {
    return await listen(options, host);
  } catch (err) {
    releaseStateDir(options.stateDir);
    throw err;
  }
}

async function listen(options: LocalApiOptions, host: string): Promise<LocalApi> {
  const stateFile = join(options.stateDir, STATE_FILE);
  // Before the token is made: a token left by an earlier run is what marks a missing state file.
  prepareStateDir(options.stateDir, stateFile);
  const delay =
    options.propagationDelayMs ??
    propagationDelayFromEnv((options.env ?? process.env)['TSK_PROPAGATION_DELAY_MS']);
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_PROPAGATION_DELAY_MS) {
    throw new Error(`propagation delay must be 0-${MAX_PROPAGATION_DELAY_MS} ms, not ${delay}`);
  }
  const tokenFile = join(options.stateDir, TOKEN_FILE);
  const tokenIsNew = !existsSync(tokenFile);
  const token = loadOrCreateToken(tokenFile);
  const db = new Database(stateFile, loadState(stateFile), { retainMs: delay });
  const faults = new FaultRegistry();
  for (const spec of faultsFromEnv((options.env ?? process.env)['TSK_FAULTS'])) faults.add(spec);
  const requestLog: RequestLogEntry[] = [];
  const pipeline: Pipeline = {
    token,
    db,
    router: createRouter(createClientKeys()),
    faults,
    budget: new WriteBudget(),
  };

  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    void answer(pipeline, req, method, url).then((a) => {
      const path = url.split('?')[0] ?? url;
      if (a === DROP) {
        requestLog.push({ method, path, status: 0 });
        res.socket?.destroy();
        return;
      }
      requestLog.push({ method, path, status: a.status });
      send(res, a);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void =>
      reject(
        new Error(
          `Local Fastly API cannot listen on ${host}:${options.port ?? 7677}: ${err.message}`,
        ),
      );
    server.once('error', fail);
    server.listen(options.port ?? 7677, host, () => {
      server.off('error', fail);
      resolve();
    });
  }).catch((err: unknown) => {
    // A token made by a start that never served would make the next start refuse the folder as
    // "state file missing" (see prepareStateDir): a taken port must leave the folder as it was.
    if (tokenIsNew) rmSync(tokenFile, { force: true });
    throw err;
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const url = `http://${urlHost}:${port}`;
  updateClaim(options.stateDir, { api_url: url });
  return {
    url,
    token,
    state: createStateView(db, faults, requestLog, delay),
    close() {
      // Every answered write is already on disk (see database.ts), so closing only stops serving.
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => {
          releaseStateDir(options.stateDir);
          if (err === undefined) resolve();
          else reject(err);
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
