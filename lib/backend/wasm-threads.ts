/**
 * Multi-threaded wasm backend in Node (XNNPACK's thread pool on worker_threads).
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build but never uses it in
 * Node (tensorflow/tfjs#3830): its feature flag says "no threads" under Node,
 * its pthread workers are loaded from Blob URLs (which Node's worker_threads
 * cannot start), and it caps the pool at half of os.cpus() (assuming two
 * hyperthreads per core), which is 1 on a 2-core machine. Node 20 has
 * everything else the build needs (SharedArrayBuffer, wasm threads, Atomics).
 * `enableWasmThreads` bridges the three gaps for the duration of the
 * backend's initialisation:
 *   - sets WASM_HAS_MULTITHREAD_SUPPORT and the requested thread count;
 *   - captures the worker script and the module factory, which the loader
 *     builds as Blobs, writes them to a private temp folder and hands the
 *     worker a file path instead of a Blob URL (the factory also gets the few
 *     bundle-level names it refers to);
 *   - reports 2 x threads cpus while the module computes its pool size.
 * Everything is restored when initialisation ends, and the pool's workers
 * stop holding the process open (it exits when its own work is done). Results are identical to
 * the single-threaded build: XNNPACK splits work by output tiles, never a sum.
 *
 * FER_THREADS=n sets the thread count (default: all cores, at most 8, the
 * number of workers the build pre-creates); FER_THREADS=1 keeps the plain
 * single-threaded SIMD build.
 * @see notebooks/00-environment.ipynb
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

// the module object itself (not an import copy): the wasm loader reads cpus() from it
const os = require('node:os') as typeof import('node:os');

/** The thread count FER_THREADS asks for, or all cores (capped at 8). */
export function requestedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FER_THREADS?.trim();
  if (!raw) return Math.min(8, Math.max(1, os.cpus().length));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`FER_THREADS='${raw}' must be a whole number from 1 to 8`);
  return n;
}

/** Names the tfjs bundle defines at top level and its module factory uses. */
const FACTORY_PRELUDE = (scriptPath: string) => `
var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os');
var commonjsGlobal = globalThis, _scriptDir = ${JSON.stringify(scriptPath)};
function __values(o) { var s = typeof Symbol === 'function' && Symbol.iterator, m = s && o[s], i = 0; if (m) return m.call(o);
  if (o && typeof o.length === 'number') return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } };
  throw new TypeError('not iterable'); }
function __read(o, n) { var m = typeof Symbol === 'function' && o[Symbol.iterator]; if (!m) return o; var i = m.call(o), r, ar = [], e;
  try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); } catch (error) { e = { error: error }; }
  finally { try { if (r && !r.done && (m = i['return'])) m.call(i); } finally { if (e) throw e.error; } } return ar; }
function __spreadArray(to, from) { return to.concat(Array.prototype.slice.call(from)); }
`;

/** The worker's "import the main script from a Blob" step, replaced by a file import. */
const WORKER_BLOB_IMPORT = /var objectUrl=URL\.createObjectURL\(e\.data\.urlOrBlob\);importScripts\(objectUrl\);URL\.revokeObjectURL\(objectUrl\)/;

/**
 * Prepares the threaded build before `tf.setBackend('wasm')`; call the
 * returned function once that has settled. Throws if the bundle's shape is
 * not the one this bridge knows (then the caller falls back to one thread).
 */
export function enableWasmThreads(threads: number): () => void {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount(n: number): void };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-wasm-threads-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const factoryPath = path.join(dir, 'factory.js');
  const workerPath = path.join(dir, 'worker.js');

  const texts = new WeakMap<Blob, string>();
  const OriginalBlob = globalThis.Blob;
  class CapturingBlob extends OriginalBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (parts?.every((p) => typeof p === 'string')) texts.set(this, (parts as string[]).join(''));
    }
  }
  const originalCreateObjectURL = URL.createObjectURL;
  const createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined || !text.includes('nodeWorkerThreads')) return originalCreateObjectURL(blob);
    if (!fs.existsSync(workerPath)) {
      if (!WORKER_BLOB_IMPORT.test(text)) throw new Error('unknown tfjs-backend-wasm worker script: cannot run threads in Node');
      fs.writeFileSync(workerPath, text.replace(WORKER_BLOB_IMPORT, () => `importScripts(${JSON.stringify(factoryPath)})`));
    }
    return workerPath;
  };
  // the factory Blob is made before any worker: write it as it is created
  class FactoryBlob extends CapturingBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const text = texts.get(this);
      if (text?.startsWith('var WasmBackendModuleThreadedSimd')) fs.writeFileSync(factoryPath, FACTORY_PRELUDE(factoryPath) + text);
    }
  }
  const originalCpus = os.cpus;

  globalThis.Blob = FactoryBlob as typeof Blob;
  URL.createObjectURL = createObjectURL;
  // the build sizes its pool as min(threads, cpus / 2)
  os.cpus = () => Array.from({ length: 2 * threads }, () => originalCpus()[0]);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  return () => {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
    const backend = tf.findBackend('wasm') as unknown as { wasm?: { PThread?: { runningWorkers: { unref(): void }[] } } } | null;
    for (const worker of backend?.wasm?.PThread?.runningWorkers ?? []) worker.unref();
  };
}
