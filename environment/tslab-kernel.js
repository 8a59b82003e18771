#!/usr/bin/env node
/**
 * Starts the project's tslab kernel (node_modules/tslab) with one fix.
 *
 * zeromq.js 6 completes at most 512 sends in a row synchronously; the next
 * one is deferred until the event loop turns, and any send attempted before
 * then throws EBUSY ("Socket is busy writing"). tslab sends every output and
 * status message without waiting, so a long cell (a training loop printing
 * progress) eventually kills the kernel. Here a send that finds its socket
 * busy waits behind the pending one instead, keeping the order of messages.
 *
 *
 * Also, a publisher drops messages once 1000 wait for a subscriber; in a
 * burst that can drop the final "idle" status a client waits for, so the
 * cell never ends. tslab's iopub publisher is given no such limit.
 *
 * Used by environment/kernels/fer-tslab/kernel.json, `npm run notebooks` and
 * `npm run kernel:register`; arguments are tslab's own
 * (`kernel --config-path <connection file>`).
 */
'use strict';
const zmq = require('zeromq');

const send = zmq.Socket.prototype.send;
/** per socket (sockets are sealed): the last send's promise, and the queue while one is waiting */
const state = new WeakMap();

function queuedSend(message, ...options) {
  let st = state.get(this);
  if (!st) state.set(this, (st = { last: undefined, queue: undefined }));
  if (!st.queue) {
    try {
      return (st.last = send.call(this, message, ...options));
    } catch (e) {
      if (e.code !== 'EBUSY') throw e;
      st.queue = Promise.resolve(st.last).catch(() => undefined);
    }
  }
  const queued = st.queue.then(() => send.call(this, message, ...options));
  const tail = (st.queue = queued.catch(() => undefined));
  st.last = queued;
  // once the queue has drained, sends go straight through again
  tail.then(() => { if (st.queue === tail) st.queue = undefined; });
  return queued;
}
// the native method is read-only, so it is replaced by definition, not assignment
Object.defineProperty(zmq.Socket.prototype, 'send', { value: queuedSend, writable: true, configurable: true });

// tslab creates its sockets as `new zmq.Publisher()` after this point
const { Publisher } = zmq;
zmq.Publisher = class UnboundedPublisher extends Publisher {
  constructor(options = {}) {
    super({ sendHighWaterMark: 0, ...options });
  }
};

require('tslab/dist/main.js').main();
