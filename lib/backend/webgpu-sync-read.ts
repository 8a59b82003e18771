/**
 * dataSync() on the webgpu backend in Node.
 *
 * tfjs-backend-webgpu 4.22 reads a GPU tensor synchronously by drawing it
 * through an OffscreenCanvas, which Node lacks, so every dataSync(),
 * arraySync() and bufferSync() of a GPU-resident tensor throws there; the
 * library and tfjs-layers call them on every training step. A WebGPU buffer
 * can only be read after mapAsync() settles, and Dawn's Node bindings
 * (the `webgpu` package, 0.6.2) settle it in an "event tick": a native
 * function they schedule with the global setImmediate while work is pending,
 * which calls Dawn's ProcessEvents. The map's state changes inside that
 * call, before any promise runs. So a synchronous read can copy the tensor
 * into a staging buffer, ask for the map, and call the scheduled tick itself
 * until the buffer is mapped, sleeping briefly between calls so lavapipe's
 * threads keep the cores. `captureDawnTicks` must run before Dawn is created.
 * Checked in test/webgpu-ops.test.ts.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';

type Tick = () => void;
/** Dawn's event ticks scheduled and not yet run, oldest first. */
const pendingTicks = new Set<Tick>();
let capturing = false;

/**
 * Dawn's tick is a plain native function (no name, no parameters, a
 * prototype); promise resolvers and bound functions differ on one of these.
 */
function looksLikeDawnTick(fn: unknown): fn is Tick {
  return typeof fn === 'function' && fn.name === '' && fn.length === 0 && Object.hasOwn(fn, 'prototype') &&
    Function.prototype.toString.call(fn).includes('[native code]');
}

/** Wraps the global setImmediate so that Dawn's ticks can also be called synchronously. Idempotent. */
export function captureDawnTicks(): void {
  if (capturing) return;
  capturing = true;
  const original = globalThis.setImmediate;
  const wrapped = function (this: unknown, fn: unknown, ...args: unknown[]) {
    if (!looksLikeDawnTick(fn)) return (original as (...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
    const tick = fn;
    pendingTicks.add(tick);
    // run by the event loop unless a synchronous read already ran it
    return original(() => { if (pendingTicks.delete(tick)) tick(); });
  };
  // keep util.promisify's custom form and any other own property
  for (const key of Reflect.ownKeys(original)) {
    if (['length', 'name', 'prototype'].includes(key as string)) continue;
    Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(original, key)!);
  }
  globalThis.setImmediate = wrapped as typeof setImmediate;
}

/** Runs the ticks Dawn has scheduled (which may schedule the next one). */
function runPendingTicks(): number {
  const ticks = [...pendingTicks];
  pendingTicks.clear();
  for (const tick of ticks) tick();
  return ticks.length;
}

interface MappableBuffer {
  size: number;
  mapState: string;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Longest a synchronous read waits for the GPU: a queued training step on a software adapter can take seconds. */
const READ_TIMEOUT_MS = 10 * 60 * 1000;

/** Maps `buffer` for reading without returning to the event loop. */
export function mapReadSync(buffer: MappableBuffer): void {
  const READ = (globalThis as unknown as { GPUMapMode: { READ: number } }).GPUMapMode.READ;
  let failure: unknown;
  buffer.mapAsync(READ).catch((e) => { failure = e; });
  const t0 = performance.now();
  for (let wait = 0.01; buffer.mapState !== 'mapped'; wait = Math.min(1, wait * 2)) {
    if (!runPendingTicks()) {
      throw new Error('FER_BACKEND=webgpu: a synchronous read (dataSync) found no Dawn event tick to run; the webgpu ' +
        'package is not the 0.6.2 this project pins, or it was loaded outside lib/backend (use await tensor.data())');
    }
    if (failure || buffer.mapState === 'unmapped') {
      throw new Error(`FER_BACKEND=webgpu: reading a tensor failed: ${failure}`);
    }
    if (performance.now() - t0 > READ_TIMEOUT_MS) {
      throw new Error('FER_BACKEND=webgpu: the GPU did not finish within 10 minutes');
    }
    Atomics.wait(sleeper, 0, 0, wait);
  }
}

interface WebGpuBackendInternals {
  tensorMap: { get(dataId: object): { values: unknown; dtype: tf.DataType; resource: MappableBuffer } };
  bufferManager: { acquireBuffer(size: number, usage: number): MappableBuffer; releaseBuffer(b: MappableBuffer): void };
  commandEncoder: { copyBufferToBuffer(src: MappableBuffer, at: number, dst: MappableBuffer, to: number, size: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: tf.BackendValues): tf.BackendValues;
  readSync(dataId: object): tf.BackendValues;
}

const MARKER = Symbol.for('fer.webgpuReadSync');

/**
 * Replaces the webgpu backend's readSync (on its class, once) by the same
 * copy-to-staging-buffer read as its async read, mapped synchronously.
 */
export function registerWebGpuSyncRead(backend: tf.KernelBackend): void {
  const proto = Object.getPrototypeOf(backend) as WebGpuBackendInternals & { [MARKER]?: true };
  if (proto[MARKER]) return;
  const original = proto.readSync;
  proto.readSync = function (this: WebGpuBackendInternals, dataId: object) {
    const data = this.tensorMap.get(dataId);
    if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64') {
      return original.call(this, dataId);
    }
    const GPUBufferUsage = (globalThis as unknown as { GPUBufferUsage: Record<string, number> }).GPUBufferUsage;
    const size = data.resource.size;
    const staging = this.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
    this.ensureCommandEncoderReady();
    this.endComputePassEncoder();
    this.commandEncoder.copyBufferToBuffer(data.resource, 0, staging, 0, size);
    this.submitQueue();
    mapReadSync(staging);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    this.bufferManager.releaseBuffer(staging);
    return this.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype));
  };
  proto[MARKER] = true;
}
