// One Compute request inside a worker thread: a fresh instance of the compiled module, the
// `fastly_*` hostcalls it imports, and WASI preview1 from node:wasi. Hostcalls are synchronous;
// whatever lives outside the worker (stores, backends, rate counters) is asked through `call`,
// which blocks this thread until the host answers. Signatures and statuses follow the ABI's
// `.witx` files; semantics (handles, `buflen` + `nwritten`, `none` vs errors) follow Viceroy.
import { WASI } from 'node:wasi';
import { CURSOR_DONE, HTTP_11, SELECT_TIMED_OUT, SendErrorTag, Status } from './abi.js';
import type {
  BackendResponse,
  DownstreamRequest,
  GuestMessage,
  HeaderList,
  HostCall,
  RunOutcome,
} from './protocol.js';

/** What the guest needs from its thread: post a message, make a blocking call. */
export interface GuestChannel {
  post(message: GuestMessage, transfer?: ArrayBuffer[]): void;
  call(call: HostCall): unknown;
}

interface Headers {
  list: HeaderList;
}
interface RequestHandle extends Headers {
  kind: 'req';
  method: string;
  uri: string;
}
interface ResponseHandle extends Headers {
  kind: 'resp';
  status: number;
}
interface BodyHandle {
  kind: 'body';
  chunks: Uint8Array[];
  /** The downstream request body still arriving: more is read from the host on demand. */
  remote?: boolean;
  /** Set once the body is the downstream response being streamed. */
  streaming: boolean;
}
interface PendingHandle {
  kind: 'pending';
  id: number;
}
type Handle =
  | RequestHandle
  | ResponseHandle
  | BodyHandle
  | PendingHandle
  | { kind: 'config'; store: string }
  | { kind: 'secret_store'; store: string }
  | { kind: 'secret'; bytes: Uint8Array }
  | { kind: 'log'; endpoint: string }
  | { kind: 'kv'; store: string };

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Builds the import object for one instance; `bind` must be called with the instance. */
export function guestImports(
  module: WebAssembly.Module,
  request: DownstreamRequest,
  run: number,
  channel: GuestChannel,
  startedAt: number,
): {
  imports: WebAssembly.Imports;
  wasi: WASI;
  bind(instance: WebAssembly.Instance): void;
  finish(): RunOutcome | null;
} {
  let memory: WebAssembly.Memory | undefined;
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  let nextFetch = 1;
  const add = (h: Handle): number => {
    const id = nextHandle++;
    handles.set(id, h);
    return id;
  };
  const downstreamReq = add({
    kind: 'req',
    method: request.method,
    uri: request.uri,
    list: request.headers.map(([n, v]) => [n.toLowerCase(), v]),
  });
  const downstreamBody = add({
    kind: 'body',
    chunks: request.body.length > 0 ? [request.body] : [],
    streaming: false,
    remote: request.streamed === true,
  });
  /** Finished backend responses by pending id. */
  const arrived = new Map<number, BackendResponse>();
  let responded = false;
  let ended = false;

  // Memory grows during a request; views are made on every access.
  const mem = (): WebAssembly.Memory => {
    if (!memory) throw new Error('guest memory is not bound');
    return memory;
  };
  const bytes = (ptr: number, len: number): Uint8Array =>
    new Uint8Array(mem().buffer, ptr >>> 0, len >>> 0).slice();
  const str = (ptr: number, len: number): string => text.decode(bytes(ptr, len));
  const u32 = (ptr: number, value: number): void =>
    new DataView(mem().buffer).setUint32(ptr >>> 0, value >>> 0, true);
  const u16 = (ptr: number, value: number): void =>
    new DataView(mem().buffer).setUint16(ptr >>> 0, value, true);
  const i64 = (ptr: number, value: bigint): void =>
    new DataView(mem().buffer).setBigInt64(ptr >>> 0, value, true);
  const put = (ptr: number, data: Uint8Array): void =>
    new Uint8Array(mem().buffer).set(data, ptr >>> 0);

  const get = <K extends Handle['kind']>(h: number, kind: K): Extract<Handle, { kind: K }> => {
    const found = handles.get(h);
    if (!found || found.kind !== kind) throw new AbiError(Status.badf);
    return found as Extract<Handle, { kind: K }>;
  };
  const headersOf = (h: number): Headers => {
    const found = handles.get(h);
    if (!found || (found.kind !== 'req' && found.kind !== 'resp')) throw new AbiError(Status.badf);
    return found;
  };

  /** Writes `data` into the guest's buffer, or answers `buflen` with the size it needs. */
  const fill = (data: Uint8Array, buf: number, max: number, nwrittenOut: number): number => {
    if (data.length > max >>> 0) {
      u32(nwrittenOut, data.length);
      return Status.buflen;
    }
    put(buf, data);
    u32(nwrittenOut, data.length);
    return Status.ok;
  };

  /** Viceroy's multi-value writer: NUL-terminated values from `cursor`, as many as fit. */
  const multi = (
    values: string[],
    buf: number,
    max: number,
    cursor: number,
    endOut: number,
    nwrittenOut: number,
  ): number => {
    let offset = 0;
    let index = cursor >>> 0;
    let finished = true;
    const out: number[] = [];
    for (; index < values.length; index++) {
      const encoded = utf8.encode(values[index] ?? '');
      if (offset + encoded.length + 1 > max >>> 0) {
        if (offset === 0) {
          u32(nwrittenOut, encoded.length + 1);
          if (endOut !== 0) i64(endOut, CURSOR_DONE);
          return Status.buflen;
        }
        finished = false;
        break;
      }
      out.push(...encoded, 0);
      offset += encoded.length + 1;
    }
    put(buf, Uint8Array.from(out));
    u32(nwrittenOut, offset);
    if (endOut !== 0) i64(endOut, finished ? CURSOR_DONE : BigInt(index));
    return Status.ok;
  };

  const post = (message: GuestMessage): void => channel.post(message);
  const unsupported = (name: string) => (): number => {
    post({ type: 'unsupported', name });
    return Status.unsupported;
  };

  /** One more piece of a remote body into `chunks`; false once it has all arrived. */
  const pull = (body: BodyHandle): boolean => {
    if (!body.remote) return false;
    const next = channel.call({ op: 'body_read' }) as Uint8Array | null;
    if (next === null) {
      body.remote = false;
      return false;
    }
    body.chunks.push(next);
    return true;
  };
  /** All of a body, for the calls that take a body whole (send, append, send_downstream). */
  const drain = (body: BodyHandle): void => {
    while (pull(body));
  };

  const sendBody = (body: BodyHandle): void => {
    drain(body);
    for (const chunk of body.chunks) post({ type: 'chunk', run, bytes: chunk });
    body.chunks = [];
  };

  const header = {
    names_get(h: number, buf: number, max: number, cursor: number, endOut: number, nw: number) {
      const names = [...new Set(headersOf(h).list.map(([n]) => n))];
      return multi(names, buf, max, cursor, endOut, nw);
    },
    value_get(h: number, np: number, nl: number, buf: number, max: number, nw: number) {
      const name = str(np, nl).toLowerCase();
      const found = headersOf(h).list.find(([n]) => n === name);
      if (!found) {
        u32(nw, 0);
        return Status.none;
      }
      return fill(utf8.encode(found[1]), buf, max, nw);
    },
    values_get(
      h: number,
      np: number,
      nl: number,
      buf: number,
      max: number,
      cursor: number,
      endOut: number,
      nw: number,
    ) {
      const name = str(np, nl).toLowerCase();
      const values = headersOf(h)
        .list.filter(([n]) => n === name)
        .map(([, v]) => v);
      return multi(values, buf, max, cursor, endOut, nw);
    },
    values_set(h: number, np: number, nl: number, vp: number, vl: number) {
      const name = str(np, nl).toLowerCase();
      const target = headersOf(h);
      const values = str(vp, vl).split('\0').slice(0, -1);
      target.list = target.list.filter(([n]) => n !== name);
      for (const v of values) target.list.push([name, v]);
      return Status.ok;
    },
    insert(h: number, np: number, nl: number, vp: number, vl: number) {
      const name = str(np, nl).toLowerCase();
      const target = headersOf(h);
      target.list = target.list.filter(([n]) => n !== name);
      target.list.push([name, str(vp, vl)]);
      return Status.ok;
    },
    append(h: number, np: number, nl: number, vp: number, vl: number) {
      headersOf(h).list.push([str(np, nl).toLowerCase(), str(vp, vl)]);
      return Status.ok;
    },
    remove(h: number, np: number, nl: number) {
      const name = str(np, nl).toLowerCase();
      const target = headersOf(h);
      const before = target.list.length;
      target.list = target.list.filter(([n]) => n !== name);
      // Viceroy: removing an absent header is `inval`.
      return target.list.length === before ? Status.inval : Status.ok;
    },
    version_get(_h: number, out: number) {
      u32(out, HTTP_11);
      return Status.ok;
    },
    version_set() {
      return Status.ok;
    },
  };

  const ip = (address: string, out: number, nwOut: number): number => {
    const octets = ipOctets(address);
    if (!octets) return Status.none;
    put(out, octets);
    u32(nwOut, octets.length);
    return Status.ok;
  };

  const sendAsync = (req: number, body: number, bp: number, bl: number, out: number): number => {
    const r = get(req, 'req');
    const b = get(body, 'body');
    const backend = str(bp, bl);
    const id = nextFetch++;
    drain(b);
    const payload = concat(b.chunks);
    b.chunks = [];
    post({
      type: 'fetch_start',
      id,
      request: { backend, method: r.method, uri: r.uri, headers: r.list, body: payload },
    });
    u32(out, add({ kind: 'pending', id }));
    return Status.ok;
  };

  const waitFor = (id: number): BackendResponse => {
    let answer = arrived.get(id);
    if (!answer) {
      answer = channel.call({ op: 'fetch_take', id }) as BackendResponse;
      arrived.set(id, answer);
    }
    return answer;
  };

  const fastly_http_req = {
    body_downstream_get(reqOut: number, bodyOut: number) {
      u32(reqOut, downstreamReq);
      u32(bodyOut, downstreamBody);
      return Status.ok;
    },
    new(out: number) {
      u32(out, add({ kind: 'req', method: 'GET', uri: '', list: [] }));
      return Status.ok;
    },
    close(h: number) {
      get(h, 'req');
      handles.delete(h);
      return Status.ok;
    },
    header_names_get: header.names_get,
    header_value_get: header.value_get,
    header_values_get: header.values_get,
    header_values_set: header.values_set,
    header_insert: header.insert,
    header_append: header.append,
    header_remove: header.remove,
    version_get: header.version_get,
    version_set: header.version_set,
    method_get(h: number, buf: number, max: number, nw: number) {
      return fill(utf8.encode(get(h, 'req').method), buf, max, nw);
    },
    method_set(h: number, p: number, l: number) {
      get(h, 'req').method = str(p, l);
      return Status.ok;
    },
    uri_get(h: number, buf: number, max: number, nw: number) {
      return fill(utf8.encode(get(h, 'req').uri), buf, max, nw);
    },
    uri_set(h: number, p: number, l: number) {
      get(h, 'req').uri = str(p, l);
      return Status.ok;
    },
    cache_override_set: () => Status.ok,
    cache_override_v2_set: () => Status.ok,
    framing_headers_mode_set: () => Status.ok,
    auto_decompress_response_set: () => Status.ok,
    send_async: sendAsync,
    send_async_streaming: sendAsync,
    send_async_v2(
      req: number,
      body: number,
      bp: number,
      bl: number,
      _streaming: number,
      out: number,
    ) {
      return sendAsync(req, body, bp, bl, out);
    },
    pending_req_wait_v2(p: number, detail: number, respOut: number, bodyOut: number) {
      const pending = get(p, 'pending');
      const answer = waitFor(pending.id);
      handles.delete(p);
      if (!answer.ok) {
        if (detail !== 0) {
          u32(detail, sendErrorTag(answer.reason));
          u32(detail + 4, 0);
        }
        return answer.reason === 'unknown_backend' ? Status.inval : Status.error;
      }
      if (detail !== 0) u32(detail, SendErrorTag.ok);
      u32(
        respOut,
        add({
          kind: 'resp',
          status: answer.status,
          list: answer.headers.map(([n, v]) => [n.toLowerCase(), v]),
        }),
      );
      u32(bodyOut, add({ kind: 'body', chunks: [answer.body], streaming: false }));
      return Status.ok;
    },
  };

  const fastly_http_downstream = {
    downstream_client_ip_addr(_req: number, out: number, nw: number) {
      return ip(request.clientIp, out, nw);
    },
    downstream_server_ip_addr(_req: number, out: number, nw: number) {
      return ip(request.serverIp, out, nw);
    },
    downstream_client_request_id(_req: number, buf: number, max: number, nw: number) {
      return fill(utf8.encode(request.requestId), buf, max, nw);
    },
    // Plain HTTP: there is no TLS session to describe.
    downstream_tls_cipher_openssl_name: () => Status.none,
    downstream_tls_protocol: () => Status.none,
    downstream_tls_client_hello: () => Status.none,
    downstream_tls_raw_client_certificate: () => Status.none,
    downstream_tls_ja3_md5: () => Status.none,
    downstream_tls_client_servername: () => Status.none,
    downstream_tls_ja4: () => Status.none,
  };

  const fastly_http_resp = {
    new(out: number) {
      u32(out, add({ kind: 'resp', status: 200, list: [] }));
      return Status.ok;
    },
    close(h: number) {
      get(h, 'resp');
      handles.delete(h);
      return Status.ok;
    },
    header_names_get: header.names_get,
    header_value_get: header.value_get,
    header_values_get: header.values_get,
    header_values_set: header.values_set,
    header_insert: header.insert,
    header_append: header.append,
    header_remove: header.remove,
    version_get: header.version_get,
    version_set: header.version_set,
    framing_headers_mode_set: () => Status.ok,
    status_get(h: number, out: number) {
      u16(out, get(h, 'resp').status);
      return Status.ok;
    },
    status_set(h: number, status: number) {
      // Viceroy (http::StatusCode): 100-999 are representable; the guest validates the rest.
      if (status < 100 || status > 999) return Status.inval;
      get(h, 'resp').status = status;
      return Status.ok;
    },
    send_downstream(h: number, b: number, streaming: number) {
      const resp = get(h, 'resp');
      const body = get(b, 'body');
      if (responded) return Status.error;
      responded = true;
      post({ type: 'head', run, status: resp.status, headers: resp.list });
      sendBody(body);
      if (streaming !== 0) {
        body.streaming = true;
      } else {
        handles.delete(b);
        post({ type: 'end', run });
        ended = true;
      }
      handles.delete(h);
      return Status.ok;
    },
  };

  const fastly_http_body = {
    new(out: number) {
      u32(out, add({ kind: 'body', chunks: [], streaming: false }));
      return Status.ok;
    },
    read(h: number, buf: number, max: number, nreadOut: number) {
      const body = get(h, 'body');
      // Waits for the next piece of a downstream body that is still arriving (empty pieces skipped).
      while (body.chunks.length === 0 && pull(body));
      const first = body.chunks[0];
      if (!first) {
        u32(nreadOut, 0);
        return Status.ok;
      }
      const n = Math.min(first.length, max >>> 0);
      put(buf, first.subarray(0, n));
      if (n === first.length) body.chunks.shift();
      else body.chunks[0] = first.subarray(n);
      u32(nreadOut, n);
      return Status.ok;
    },
    write(h: number, p: number, l: number, end: number, nwOut: number) {
      const body = get(h, 'body');
      const data = bytes(p, l);
      if (body.streaming) post({ type: 'chunk', run, bytes: data });
      else if (end === 1) body.chunks.unshift(data);
      else body.chunks.push(data);
      u32(nwOut, data.length);
      return Status.ok;
    },
    append(dest: number, src: number) {
      const target = get(dest, 'body');
      const source = get(src, 'body');
      drain(source);
      handles.delete(src);
      if (target.streaming) for (const c of source.chunks) post({ type: 'chunk', run, bytes: c });
      else target.chunks.push(...source.chunks);
      return Status.ok;
    },
    close(h: number) {
      const body = get(h, 'body');
      handles.delete(h);
      if (body.streaming && !ended) {
        post({ type: 'end', run });
        ended = true;
      }
      return Status.ok;
    },
    abandon(h: number) {
      get(h, 'body');
      handles.delete(h);
      return Status.ok;
    },
    known_length(h: number, out: number) {
      const body = get(h, 'body');
      if (body.streaming || body.remote) return Status.none;
      i64(out, BigInt(body.chunks.reduce((n, c) => n + c.length, 0)));
      return Status.ok;
    },
  };

  const openNamed = (
    op: 'config_exists' | 'secret_store_exists' | 'kv_exists',
    missing: number,
    make: (name: string) => Handle,
  ) => {
    return (p: number, l: number, out: number): number => {
      const name = str(p, l);
      if (!channel.call({ op, store: name })) return missing;
      u32(out, add(make(name)));
      return Status.ok;
    };
  };
  const configGet = (h: number, kp: number, kl: number, buf: number, max: number, nw: number) => {
    const store = get(h, 'config').store;
    const value = channel.call({ op: 'config_get', store, key: str(kp, kl) }) as string | null;
    if (value === null) {
      u32(nw, 0);
      return Status.none;
    }
    return fill(utf8.encode(value), buf, max, nw);
  };
  // Viceroy: an unknown config store (dictionary) is `badf`; an unknown secret store is `none`.
  const configOpen = openNamed('config_exists', Status.badf, (store) => ({
    kind: 'config',
    store,
  }));

  const fastly_secret_store = {
    open: openNamed('secret_store_exists', Status.none, (store) => ({
      kind: 'secret_store',
      store,
    })),
    get(h: number, kp: number, kl: number, out: number) {
      const store = get(h, 'secret_store').store;
      const value = channel.call({
        op: 'secret_get',
        store,
        key: str(kp, kl),
      }) as Uint8Array | null;
      if (value === null) return Status.none;
      u32(out, add({ kind: 'secret', bytes: value }));
      return Status.ok;
    },
    plaintext(h: number, buf: number, max: number, nw: number) {
      return fill(get(h, 'secret').bytes, buf, max, nw);
    },
    from_bytes(p: number, l: number, out: number) {
      u32(out, add({ kind: 'secret', bytes: bytes(p, l) }));
      return Status.ok;
    },
  };

  const fastly_log = {
    endpoint_get(p: number, l: number, out: number) {
      u32(out, add({ kind: 'log', endpoint: str(p, l) }));
      return Status.ok;
    },
    write(h: number, p: number, l: number, nw: number) {
      post({ type: 'log', endpoint: get(h, 'log').endpoint, line: str(p, l) });
      u32(nw, l);
      return Status.ok;
    },
  };

  const fastly_erl = {
    ratecounter_increment(cp: number, cl: number, ep: number, el: number, delta: number) {
      channel.call({ op: 'erl_increment', counter: str(cp, cl), entry: str(ep, el), delta });
      return Status.ok;
    },
    ratecounter_lookup_count(
      cp: number,
      cl: number,
      ep: number,
      el: number,
      s: number,
      out: number,
    ) {
      u32(
        out,
        channel.call({
          op: 'erl_count',
          counter: str(cp, cl),
          entry: str(ep, el),
          seconds: s,
        }) as number,
      );
      return Status.ok;
    },
    ratecounter_lookup_rate(
      cp: number,
      cl: number,
      ep: number,
      el: number,
      s: number,
      out: number,
    ) {
      u32(
        out,
        channel.call({
          op: 'erl_rate',
          counter: str(cp, cl),
          entry: str(ep, el),
          seconds: s,
        }) as number,
      );
      return Status.ok;
    },
    penaltybox_add(bp: number, bl: number, ep: number, el: number, ttl: number) {
      channel.call({ op: 'pb_add', box: str(bp, bl), entry: str(ep, el), ttlSeconds: ttl });
      return Status.ok;
    },
    penaltybox_has(bp: number, bl: number, ep: number, el: number, out: number) {
      u32(out, channel.call({ op: 'pb_has', box: str(bp, bl), entry: str(ep, el) }) ? 1 : 0);
      return Status.ok;
    },
    check_rate(
      cp: number,
      cl: number,
      ep: number,
      el: number,
      delta: number,
      window: number,
      limit: number,
      bp: number,
      bl: number,
      ttl: number,
      out: number,
    ) {
      const counter = str(cp, cl);
      const entry = str(ep, el);
      const box = str(bp, bl);
      if (channel.call({ op: 'pb_has', box, entry })) {
        u32(out, 1);
        return Status.ok;
      }
      channel.call({ op: 'erl_increment', counter, entry, delta });
      const rate = channel.call({ op: 'erl_rate', counter, entry, seconds: window }) as number;
      const blocked = rate > limit;
      if (blocked) channel.call({ op: 'pb_add', box, entry, ttlSeconds: ttl });
      u32(out, blocked ? 1 : 0);
      return Status.ok;
    },
  };

  const readyIds = (list: number[]): number => {
    for (let i = 0; i < list.length; i++) {
      const h = handles.get(list[i] ?? 0);
      if (!h || h.kind !== 'pending' || arrived.has(h.id)) return i;
    }
    return -1;
  };
  const fastly_async_io = {
    select(hp: number, count: number, timeoutMs: number, out: number) {
      const view = new DataView(mem().buffer);
      const list = Array.from({ length: count }, (_, i) => view.getUint32(hp + 4 * i, true));
      let index = readyIds(list);
      if (index < 0) {
        const pendingIds = list.map((h) => (handles.get(h) as PendingHandle).id);
        // Timeout 0 waits for ever (as in the ABI); the host answers null on timeout.
        const done = channel.call({ op: 'fetch_wait', ids: pendingIds, timeoutMs }) as {
          id: number;
          response: BackendResponse;
        } | null;
        if (done) {
          arrived.set(done.id, done.response);
          index = pendingIds.indexOf(done.id);
        }
      }
      u32(out, index < 0 ? SELECT_TIMED_OUT : index);
      return Status.ok;
    },
    is_ready(h: number, out: number) {
      const found = handles.get(h);
      if (!found) return Status.badf;
      if (found.kind !== 'pending') {
        u32(out, 1);
        return Status.ok;
      }
      if (!arrived.has(found.id)) {
        const done = channel.call({ op: 'fetch_wait', ids: [found.id], timeoutMs: -1 }) as {
          id: number;
          response: BackendResponse;
        } | null;
        if (done) arrived.set(done.id, done.response);
      }
      u32(out, arrived.has(found.id) ? 1 : 0);
      return Status.ok;
    },
  };

  const fastly_backend = {
    exists(p: number, l: number, out: number) {
      u32(out, channel.call({ op: 'backend_exists', backend: str(p, l) }) ? 1 : 0);
      return Status.ok;
    },
    // backend_health: unknown (0); local backends have no health checks.
    is_healthy(p: number, l: number, out: number) {
      if (!channel.call({ op: 'backend_exists', backend: str(p, l) })) return Status.inval;
      u32(out, 0);
      return Status.ok;
    },
    is_dynamic(p: number, l: number, out: number) {
      if (!channel.call({ op: 'backend_exists', backend: str(p, l) })) return Status.inval;
      u32(out, 0);
      return Status.ok;
    },
  };

  const fastly_compute_runtime = {
    get_vcpu_ms(out: number) {
      i64(out, BigInt(Math.round(performance.now() - startedAt)));
      return Status.ok;
    },
    get_heap_mib(out: number) {
      u32(out, Math.ceil(mem().buffer.byteLength / (1024 * 1024)));
      return Status.ok;
    },
  };

  const fastly_kv_store = {
    open: openNamed('kv_exists', Status.none, (store) => ({ kind: 'kv', store })),
  };

  const implemented: Record<string, Record<string, (...args: number[]) => number>> = {
    fastly_abi: { init: () => Status.ok },
    fastly_http_req,
    fastly_http_downstream,
    fastly_http_resp,
    fastly_http_body,
    fastly_config_store: { open: configOpen, get: configGet },
    fastly_dictionary: { open: configOpen, get: configGet },
    fastly_secret_store,
    fastly_log,
    fastly_erl,
    fastly_async_io,
    fastly_backend,
    fastly_compute_runtime,
    fastly_kv_store,
  };

  const wasi = new WASI({
    version: 'preview1',
    returnOnExit: true,
    args: ['main.wasm'],
    env: {
      FASTLY_HOSTNAME: 'localhost',
      FASTLY_POP: 'LOCAL',
      FASTLY_REGION: 'Local',
      FASTLY_SERVICE_ID: '',
      FASTLY_SERVICE_VERSION: '0',
      FASTLY_TRACE_ID: request.requestId,
      FASTLY_CACHE_GENERATION: '0',
      ...request.env,
    },
  });
  const wasiImports = wasi.getImportObject() as { wasi_snapshot_preview1: Record<string, unknown> };
  const preview1 = { ...wasiImports.wasi_snapshot_preview1 };
  const realWrite = preview1['fd_write'] as (...a: number[]) => number;
  // stdout and stderr go to the host (which prefixes nothing and keeps line order per request).
  preview1['fd_write'] = (fd: number, iovs: number, iovsLen: number, nwOut: number): number => {
    if (fd !== 1 && fd !== 2) return realWrite(fd, iovs, iovsLen, nwOut);
    const view = new DataView(mem().buffer);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < iovsLen; i++) {
      const ptr = view.getUint32(iovs + 8 * i, true);
      const len = view.getUint32(iovs + 8 * i + 4, true);
      parts.push(bytes(ptr, len));
      total += len;
    }
    post({ type: 'stdout', fd, text: text.decode(concat(parts)) });
    u32(nwOut, total);
    return 0;
  };

  const imports: WebAssembly.Imports = {
    wasi_snapshot_preview1: preview1 as WebAssembly.ModuleImports,
  };
  for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function' || name === 'wasi_snapshot_preview1') continue;
    const table = (imports[name] ??= {}) as Record<string, unknown>;
    const fn = implemented[name]?.[field];
    const label = `${name}::${field}`;
    table[field] = fn ? guard(fn, label) : unsupported(label);
  }

  return {
    imports,
    wasi,
    bind(instance) {
      memory = instance.exports['memory'] as WebAssembly.Memory;
    },
    finish() {
      if (!responded) return { kind: 'no_response' };
      if (!ended) {
        // The instance ended with a streaming body still open: Fastly finishes it.
        post({ type: 'end', run });
        ended = true;
      }
      return null;
    },
  };
}

/** A hostcall failure with its ABI status. */
class AbiError extends Error {
  constructor(readonly status: number) {
    super(`fastly_status ${status}`);
  }
}

/** Turns a handle error into its status; anything else is a host bug and answers `error`. */
function guard(fn: (...args: number[]) => number, label: string) {
  return (...args: number[]): number => {
    try {
      return fn(...args);
    } catch (err) {
      if (err instanceof AbiError) return err.status;
      process.stderr.write(`compute-host: ${label} failed: ${String(err)}\n`);
      return Status.error;
    }
  };
}

function sendErrorTag(reason: 'unknown_backend' | 'connection_refused' | 'timeout'): number {
  if (reason === 'unknown_backend') return SendErrorTag.destinationNotFound;
  if (reason === 'timeout') return SendErrorTag.httpResponseTimeout;
  return SendErrorTag.connectionRefused;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The octets of an IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4), or null. */
export function ipOctets(address: string): Uint8Array | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1] : address;
  const parts = v4?.split('.') ?? [];
  if (parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) {
    return Uint8Array.from(parts.map(Number));
  }
  if (!address.includes(':')) return null;
  const [head = '', tail = ''] = address.split('::');
  const groups = (s: string): number[] =>
    s === '' ? [] : s.split(':').map((g) => parseInt(g, 16));
  const h = groups(head);
  const t = address.includes('::') ? groups(tail) : [];
  const all = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill(0), ...t] : h;
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
