// The host side of the Compute ABI: compiles the module once, keeps a small pool of guest worker
// threads, gives every request a fresh instance in one of them, answers their blocking hostcalls
// (stores, backends, rate counters) on this thread, and enforces the CPU and wall-clock limits.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { MemoryErl } from './erl.js';
import type {
  BackendRequest,
  BackendResponse,
  DownstreamRequest,
  GuestMessage,
  HeaderList,
  HostCall,
  RunOutcome,
} from './protocol.js';

/** The stores and backends the guest can reach, resolved by name at every call (live views). */
export interface HostResources {
  configStore(name: string): { get(key: string): string | null } | undefined;
  secretStore(name: string): { get(key: string): Uint8Array | null } | undefined;
  kvStoreExists(name: string): boolean;
  /** Base URL of a backend, or undefined if none has that name. */
  backend(name: string): string | undefined;
  /** Rewrites a backend request before it is sent (the local API maps store ids); optional. */
  rewrite?(request: BackendRequest): BackendRequest;
}

/** Where the guest's output goes. */
export interface HostOutput {
  /** A line the guest wrote to stdout or stderr (console.log). */
  stdout(line: string, fd: number): void;
  /** A line written to a named log endpoint; resolves when it is stored. */
  log(endpoint: string, line: string): Promise<void> | void;
  /** A line from the host itself (a trap, a limit, a missing response). */
  host(event: string, fields: Record<string, unknown>): void;
}

/** Limits of one request, as Fastly enforces them (the values are configurable). */
export interface HostLimits {
  /** Guest CPU time: wall time minus time spent waiting on hostcalls. */
  cpuMs: number;
  wallMs: number;
  /** A backend answer must arrive within this long. */
  backendTimeoutMs: number;
}

export interface ComputeHostOptions {
  wasmPath: string;
  resources: HostResources;
  output: HostOutput;
  limits?: Partial<HostLimits>;
  /**
   * The Edge Rate Limiter: counters and penalty boxes in memory (default), or `off` (counts stay
   * 0, nobody is boxed) for test suites that want limits out of the way.
   */
  erl?: 'memory' | 'off';
  /**
   * Guest threads; each serves one request at a time. `min` stay up; up to `max` are started when
   * requests overlap (on Fastly every request has its own instance, so concurrent requests must
   * really run concurrently) and stop again after a while idle. Default 2 and 8.
   */
  workers?: { min?: number; max?: number };
  /**
   * Variables the guest sees besides Fastly's own, e.g. TSK_SECRET_SIGNING_KEY: the local Fastly
   * API's key, which signs the client keys secrets are sealed to (on Fastly, Fastly's pinned key).
   */
  env?: Record<string, string>;
}

/** Where one response goes, as the guest produces it. */
export interface ResponseSink {
  head(status: number, headers: HeaderList): void;
  chunk(bytes: Uint8Array): void;
  end(): void;
  /** The request failed before or during the response; `headSent` says which. */
  fail(status: number, reason: string): void;
}

/** Figures of one finished request. */
export interface RunTimings {
  instantiateMs: number;
  runMs: number;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  signal: Int32Array;
  busy: Job | undefined;
  fetches: Map<number, Promise<BackendResponse>>;
  settled: Map<number, BackendResponse>;
  idleTimer?: NodeJS.Timeout | undefined;
  /** Requests this thread finished. */
  served: number;
}

interface Job {
  run: number;
  request: DownstreamRequest;
  body: AsyncIterator<Uint8Array> | undefined;
  sink: ResponseSink;
  startedAt: number;
  waitingMs: number;
  waitSince: number | undefined;
  headSent: boolean;
  /** The guest ended the response; a trap after that only gets a log line. */
  ended: boolean;
  finished: boolean;
  logWrites: Array<Promise<void> | void>;
  resolve(timings: RunTimings | undefined): void;
  timer?: NodeJS.Timeout;
}

const DEFAULT_LIMITS: HostLimits = { cpuMs: 20_000, wallMs: 120_000, backendTimeoutMs: 30_000 };

/** A running host. */
export class ComputeHost {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly limits: HostLimits;
  private readonly erl = new MemoryErl(() => Date.now());
  private nextRun = 1;
  private failedStarts = 0;
  private readonly minWorkers: number;
  private readonly maxWorkers: number;
  private closed = false;
  /** Unsupported hostcalls seen, for the log (once each). */
  readonly unsupported = new Set<string>();

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly options: ComputeHostOptions,
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.minWorkers = Math.max(1, options.workers?.min ?? 2);
    this.maxWorkers = Math.max(this.minWorkers, options.workers?.max ?? 8);
    for (let i = 0; i < this.minWorkers; i++) this.slots.push(this.spawn());
  }

  /** Compiles the module (once) and starts the guest threads. */
  static async start(options: ComputeHostOptions): Promise<ComputeHost> {
    const module = await WebAssembly.compile(await readFile(options.wasmPath));
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    for (const needed of ['_start', 'memory']) {
      if (!exports.includes(needed))
        throw new Error(`${options.wasmPath} does not export ${needed}: not a Compute module`);
    }
    return new ComputeHost(module, options);
  }

  /**
   * Serves one downstream request; resolves with its timings once the response has ended. With
   * `body`, the request's body streams to the guest as it reads it (`request.streamed` is set).
   */
  serve(
    request: DownstreamRequest,
    sink: ResponseSink,
    body?: AsyncIterable<Uint8Array>,
  ): Promise<RunTimings | undefined> {
    return new Promise((resolve) => {
      const job: Job = {
        run: this.nextRun++,
        request: {
          ...request,
          ...(body ? { streamed: true } : {}),
          ...(this.options.env ? { env: this.options.env } : {}),
        },
        body: body?.[Symbol.asyncIterator](),
        sink,
        startedAt: 0,
        waitingMs: 0,
        waitSince: undefined,
        headSent: false,
        ended: false,
        finished: false,
        logWrites: [],
        resolve,
      };
      if (this.closed) {
        sink.fail(503, 'host is shutting down');
        resolve(undefined);
        return;
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Stops every guest thread. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.abort(job, 503, 'host is shutting down');
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.busy) this.abort(slot.busy, 503, 'host is shutting down');
        await slot.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    const worker = new Worker(bootstrap(), {
      eval: true,
      workerData: { module: this.module, port: port2, flag, entry: workerEntry() },
      transferList: [port2],
    });
    const slot: Slot = {
      worker,
      port: port1,
      signal: new Int32Array(flag),
      busy: undefined,
      fetches: new Map(),
      settled: new Map(),
      served: 0,
    };
    port1.on('message', (message: GuestMessage) => this.onMessage(slot, message));
    worker.on('error', (err) => this.replace(slot, `guest thread failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot))
        this.replace(slot, `guest thread exited (${code})`);
    });
    worker.unref();
    port1.unref();
    return slot;
  }

  /** Replaces a dead or terminated thread; its request (if any) fails with a 500. */
  private replace(slot: Slot, reason: string, killed = false): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    // A thread that dies before finishing any request cannot start at all (a broken install):
    // stop replacing it after a few tries rather than spinning, and fail what is queued.
    if (!killed) this.failedStarts = slot.served ? 0 : this.failedStarts + 1;
    if (this.failedStarts >= 3 && !this.closed) {
      this.closed = true;
      this.options.output.host('host_broken', { reason });
      for (const job of this.queue.splice(0)) this.abort(job, 500, reason);
    }
    this.slots.splice(index, 1);
    slot.port.close();
    void slot.worker.terminate();
    if (slot.busy) this.abort(slot.busy, 500, reason);
    if (!this.closed) {
      if (this.slots.length < this.minWorkers) this.slots.push(this.spawn());
      this.dispatch();
    }
  }

  private dispatch(): void {
    const idle = this.slots.filter((s) => !s.busy).length;
    const wanted = Math.min(this.queue.length - idle, this.maxWorkers - this.slots.length);
    for (let i = 0; i < wanted && !this.closed; i++) this.slots.push(this.spawn());
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const job = this.queue.shift();
      if (!job) {
        this.retireLater(slot);
        continue;
      }
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
      slot.busy = job;
      slot.fetches.clear();
      slot.settled.clear();
      // The clock starts when the thread starts the run (a new thread first loads its code).
      job.startedAt = Number.POSITIVE_INFINITY;
      job.timer = setInterval(() => this.checkLimits(slot, job), 25);
      slot.worker.postMessage({ type: 'run', run: job.run, request: job.request });
    }
  }

  /** Stops a thread above the minimum once it has been idle for a while. */
  private retireLater(slot: Slot): void {
    if (slot.idleTimer || this.slots.length <= this.minWorkers) return;
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = undefined;
      if (slot.busy || this.slots.length <= this.minWorkers) return;
      this.slots.splice(this.slots.indexOf(slot), 1);
      slot.port.close();
      void slot.worker.terminate();
    }, 10_000);
    slot.idleTimer.unref();
  }

  private checkLimits(slot: Slot, job: Job): void {
    if (slot.busy !== job) return;
    const now = performance.now();
    if (job.startedAt > now) return;
    const wall = now - job.startedAt;
    const waiting = job.waitingMs + (job.waitSince === undefined ? 0 : now - job.waitSince);
    const cpu = wall - waiting;
    let reason: string | undefined;
    if (wall > this.limits.wallMs) reason = `wall-clock limit of ${this.limits.wallMs} ms exceeded`;
    else if (cpu > this.limits.cpuMs) reason = `CPU limit of ${this.limits.cpuMs} ms exceeded`;
    if (!reason) return;
    this.options.output.host('guest_killed', { run: job.run, reason, wall_ms: Math.round(wall) });
    this.replace(slot, reason, true);
  }

  private abort(job: Job, status: number, reason: string): void {
    if (job.finished) return;
    job.finished = true;
    if (job.timer) clearInterval(job.timer);
    this.options.output.host('request_failed', { run: job.run, status, reason });
    job.sink.fail(status, reason);
    job.resolve(undefined);
  }

  private onMessage(slot: Slot, message: GuestMessage): void {
    const job = slot.busy;
    switch (message.type) {
      case 'call':
        void this.answer(slot, message.seq, message.call);
        return;
      case 'fetch_start': {
        const pending = this.backendFetch(message.request);
        slot.fetches.set(message.id, pending);
        // Recorded when done, so `is_ready` (which never waits) can see a finished request.
        void pending.then((response) => {
          if (slot.fetches.get(message.id) === pending) slot.settled.set(message.id, response);
        });
        return;
      }
      case 'stdout':
        for (const line of message.text.split('\n'))
          if (line) this.options.output.stdout(line, message.fd);
        return;
      case 'log':
        job?.logWrites.push(this.options.output.log(message.endpoint, message.line));
        return;
      case 'unsupported':
        if (!this.unsupported.has(message.name)) {
          this.unsupported.add(message.name);
          this.options.output.host('hostcall_unsupported', { hostcall: message.name });
        }
        return;
      case 'start':
        if (job && job.run === message.run) job.startedAt = performance.now();
        return;
      case 'head':
        if (job && !job.finished && job.run === message.run) {
          job.headSent = true;
          job.sink.head(message.status, message.headers);
        }
        return;
      case 'chunk':
        if (job && !job.finished && job.run === message.run) job.sink.chunk(message.bytes);
        return;
      case 'end':
        if (job && !job.finished && job.run === message.run) {
          // Log-endpoint lines written before the response ended are stored before it is sent,
          // so a client that reads the audit file after the response finds them (as on Node).
          job.ended = true;
          const writes = job.logWrites.splice(0);
          void Promise.allSettled(writes).then(() => job.sink.end());
        }
        return;
      case 'done':
        if (job && job.run === message.run)
          this.finish(slot, job, message.outcome, message.timings);
        return;
    }
  }

  private finish(slot: Slot, job: Job, outcome: RunOutcome, timings: RunTimings): void {
    slot.busy = undefined;
    slot.served++;
    if (job.timer) clearInterval(job.timer);
    if (!job.finished) {
      if (outcome.kind === 'trap' || outcome.kind === 'no_response' || outcome.kind === 'exit') {
        const reason =
          outcome.kind === 'trap'
            ? `guest trapped: ${outcome.message}`
            : outcome.kind === 'exit'
              ? `guest exited with code ${outcome.code}`
              : 'guest finished without sending a response';
        if (job.ended) {
          this.options.output.host('guest_failed_after_response', { run: job.run, reason });
        } else if (!job.headSent || outcome.kind !== 'exit') {
          this.options.output.host('request_failed', { run: job.run, reason });
          job.finished = true;
          job.sink.fail(500, reason);
          job.resolve(undefined);
          this.dispatch();
          return;
        }
      }
      job.finished = true;
      job.resolve(timings);
    }
    this.dispatch();
  }

  /** Answers a blocking hostcall: the reply goes on the port first, then the flag wakes the guest. */
  private async answer(slot: Slot, seq: number, call: HostCall): Promise<void> {
    const job = slot.busy;
    const waitStart = performance.now();
    if (job) job.waitSince = waitStart;
    let value: unknown;
    try {
      value = await this.resolveCall(slot, call);
    } catch (err) {
      value = null;
      this.options.output.host('hostcall_failed', { op: call.op, error: String(err) });
    }
    if (job) {
      job.waitingMs += performance.now() - waitStart;
      job.waitSince = undefined;
    }
    if (slot.busy !== job || !this.slots.includes(slot)) return;
    slot.port.postMessage({ seq, value });
    Atomics.add(slot.signal, 0, 1);
    Atomics.notify(slot.signal, 0);
  }

  private async resolveCall(slot: Slot, call: HostCall): Promise<unknown> {
    const r = this.options.resources;
    switch (call.op) {
      case 'config_exists':
        return r.configStore(call.store) !== undefined;
      case 'config_get':
        return r.configStore(call.store)?.get(call.key) ?? null;
      case 'secret_store_exists':
        return r.secretStore(call.store) !== undefined;
      case 'secret_get':
        return r.secretStore(call.store)?.get(call.key) ?? null;
      case 'kv_exists':
        return r.kvStoreExists(call.store);
      case 'body_read': {
        const next = await slot.busy?.body?.next();
        return next && !next.done ? new Uint8Array(next.value) : null;
      }
      case 'backend_exists':
        return r.backend(call.backend) !== undefined;
      case 'fetch_take': {
        const pending = slot.fetches.get(call.id);
        if (!pending) return { ok: false, reason: 'unknown_backend', message: 'no such request' };
        slot.fetches.delete(call.id);
        slot.settled.delete(call.id);
        return pending;
      }
      case 'fetch_wait':
        return this.waitAny(slot, call.ids, call.timeoutMs);
      case 'erl_increment':
        if (this.options.erl !== 'off') this.erl.increment(call.counter, call.entry, call.delta);
        return null;
      case 'erl_count':
        return this.erl.count(call.counter, call.entry, call.seconds);
      case 'erl_rate':
        return this.erl.rate(call.counter, call.entry, call.seconds);
      case 'pb_add':
        if (this.options.erl !== 'off') this.erl.penalize(call.box, call.entry, call.ttlSeconds);
        return null;
      case 'pb_has':
        return this.erl.penalized(call.box, call.entry);
    }
  }

  /** The first of `ids` to finish; null after `timeoutMs` (0: no limit; negative: do not wait). */
  private async waitAny(
    slot: Slot,
    ids: number[],
    timeoutMs: number,
  ): Promise<{ id: number; response: BackendResponse } | null> {
    for (const id of ids) {
      const done = slot.settled.get(id);
      if (done) {
        slot.settled.delete(id);
        slot.fetches.delete(id);
        return { id, response: done };
      }
    }
    if (timeoutMs < 0) return null;
    const racers = ids.flatMap((id) => {
      const p = slot.fetches.get(id);
      return p ? [p.then((response) => ({ id, response }))] : [];
    });
    if (racers.length === 0) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout =
      timeoutMs > 0
        ? new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), timeoutMs);
          })
        : new Promise<null>(() => {});
    const winner = await Promise.race([...racers, timeout]);
    if (timer) clearTimeout(timer);
    if (winner) {
      slot.fetches.delete(winner.id);
      slot.settled.delete(winner.id);
    }
    return winner;
  }

  private backendFetch(request: BackendRequest): Promise<BackendResponse> {
    const run = async (): Promise<BackendResponse> => {
      const base = this.options.resources.backend(request.backend);
      if (!base)
        return { ok: false, reason: 'unknown_backend', message: `no backend ${request.backend}` };
      const sent = this.options.resources.rewrite?.(request) ?? request;
      // Like Viceroy: the backend's URL gives scheme, host and port; the request's path and query
      // are kept; the Host header becomes the backend's unless the guest set one.
      const target = new URL(base);
      const own = safeUrl(sent.uri);
      const url = `${target.origin}${own ? `${own.pathname}${own.search}` : '/'}`;
      const headers = new Headers();
      for (const [n, v] of sent.headers) if (n !== 'host') headers.append(n, v);
      const hasBody = !['GET', 'HEAD'].includes(sent.method.toUpperCase());
      try {
        const response = await fetch(url, {
          method: sent.method,
          headers,
          ...(hasBody ? { body: Buffer.from(sent.body) } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.limits.backendTimeoutMs),
        });
        const body = new Uint8Array(await response.arrayBuffer());
        const list: HeaderList = [];
        response.headers.forEach((value, name) => list.push([name, value]));
        return { ok: true, status: response.status, headers: list, body };
      } catch (err) {
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        return {
          ok: false,
          reason: timedOut ? 'timeout' : 'connection_refused',
          message: err instanceof Error ? err.message : String(err),
        };
      }
    };
    return run();
  }
}

function safeUrl(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** The file the guest thread runs (TypeScript: loaded through tsx inside the thread). */
function workerEntry(): string {
  return new URL('./worker.ts', import.meta.url).href;
}

/** Worker bootstrap: registers tsx in the thread, then loads the worker module. */
function bootstrap(): string {
  // The ESM build of tsx's API (its CommonJS entry cannot register the ESM loader from a worker).
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href;
  return `
const { workerData } = require('node:worker_threads');
// node:wasi warns that it is experimental once per thread; the host says so once in its README.
const emit = process.emitWarning;
process.emitWarning = (warning, ...rest) =>
  String(warning).includes('WASI') ? undefined : emit.call(process, warning, ...rest);
(async () => {
  const { register } = await import(${JSON.stringify(tsxApi)});
  register();
  await import(workerData.entry);
})().catch((err) => { console.error(err); process.exit(1); });
`;
}

/** A request id like Fastly's (32 hex digits). */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}
