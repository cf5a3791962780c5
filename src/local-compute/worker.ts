// A guest worker thread: runs one request at a time, each in a fresh instance of the module the
// host compiled once. Blocking hostcalls wait on a shared flag while the host (whose event loop
// stays free) does the I/O, then take the answer from the port with receiveMessageOnPort.
import {
  parentPort,
  receiveMessageOnPort,
  workerData,
  type MessagePort,
} from 'node:worker_threads';
import { guestImports, HostUnavailable, type GuestChannel } from './guest.js';
import type { RunMessage, RunOutcome } from './protocol.js';

interface WorkerInit {
  module: WebAssembly.Module;
  port: MessagePort;
  flag: SharedArrayBuffer;
}

const { module, port, flag } = workerData as WorkerInit;
const signal = new Int32Array(flag);

const channel: GuestChannel = {
  post: (message) => port.postMessage(message),
  call(call) {
    Atomics.store(signal, 0, 0);
    port.postMessage({ type: 'call', call });
    // The host always answers (or terminates this thread); a wait without limit is correct.
    Atomics.wait(signal, 0, 0);
    const reply = receiveMessageOnPort(port);
    if (!reply) throw new HostUnavailable('the host woke the guest without an answer');
    return (reply.message as { value: unknown }).value;
  },
};

parentPort?.on('message', (message: RunMessage) => {
  if (message.type !== 'run') return;
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
