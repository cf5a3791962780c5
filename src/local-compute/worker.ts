// A guest worker thread: runs one request at a time, each in a fresh instance of the module the
// host compiled once. Blocking hostcalls wait on a shared flag while the host (whose event loop
// stays free) does the I/O, then take the answer from the port with receiveMessageOnPort.
import {
  parentPort,
  receiveMessageOnPort,
  workerData,
  type MessagePort,
} from 'node:worker_threads';
import { guestImports, type GuestChannel } from './guest.js';
import type { RunMessage, RunOutcome } from './protocol.js';

interface WorkerInit {
  module: WebAssembly.Module;
  port: MessagePort;
  flag: SharedArrayBuffer;
}

const { module, port, flag } = workerData as WorkerInit;
const signal = new Int32Array(flag);

let seq = 0;

const channel: GuestChannel = {
  post: (message) => port.postMessage(message),
  call(call) {
    const id = ++seq;
    port.postMessage({ type: 'call', seq: id, call });
    // The host posts the answer, then bumps the counter in `signal` and notifies. A message posted
    // from another thread is not always in this port's queue the moment the counter changes, so
    // the port is polled until the answer with this call's number is there, waiting on the
    // counter in between (the host always answers, or terminates this thread).
    for (;;) {
      const seen = Atomics.load(signal, 0);
      const reply = receiveMessageOnPort(port)?.message as
        { seq: number; value: unknown } | undefined;
      if (reply?.seq === id) return reply.value;
      if (reply) continue; // an answer to a call this thread no longer waits for
      Atomics.wait(signal, 0, seen, 20);
    }
  },
};

parentPort?.on('message', (message: RunMessage) => {
  if (message.type !== 'run') return;
  port.postMessage({ type: 'start', run: message.run });
  const started = performance.now();
  let outcome: RunOutcome = { kind: 'ok' };
  let instantiated = started;
  try {
    const guest = guestImports(module, message.request, message.run, channel, started);
    const instance = new WebAssembly.Instance(module, guest.imports);
    guest.bind(instance);
    instantiated = performance.now();
    const code = guest.wasi.start(instance);
    outcome = guest.finish() ?? (code === 0 ? { kind: 'ok' } : { kind: 'exit', code });
  } catch (err) {
    outcome = { kind: 'trap', message: err instanceof Error ? err.message : String(err) };
  }
  const end = performance.now();
  port.postMessage({
    type: 'done',
    run: message.run,
    outcome,
    timings: { instantiateMs: instantiated - started, runMs: end - instantiated },
  });
});
