/**
 * Folds trained in parallel: a pool of worker threads, each with its own
 * single-threaded wasm backend, that train whole folds (lib/train/trainer.ts
 * trainFold, the same code as in-process) while the main thread waits.
 *
 * Why folds and not steps: the lite models are small (32-px faces, 8-64
 * channels), so one step has too little work to split across cores, and
 * wasm's two-threaded build gains little on them; two single-threaded
 * processes each training their own fold keep both cores busy. Folds never
 * exchange anything, so a fold's numbers do not depend on the pool: the
 * wasm kernels give bit-identical results on one thread and on two (tested),
 * every random draw is a function of (seed, fold, epoch, step), and a worker
 * runs the method's own `prepare` again (its stages are stored by then).
 * Batch normalisation, several optimisers and alternating steps are a fold's
 * own business and happen exactly as in-process.
 *
 * The pool is chosen once per process (`workers`, 0 = one per core on wasm,
 * at most 4) and reported by `foldPoolInfo`; other backends train in-process.
 * Images cross to the workers once, in shared memory.
 * @see notebooks/00-environment.ipynb
 */
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { type FerSet, setFingerprint } from '../data/dataset';
import type { EpochRow, FoldResult, FoldSplit } from '../train/trainer';
import { workerScript } from '../train/worker-script';
import type { RunConfig } from '../train/run-types';

/** One fold to train: everything a worker needs besides the images. */
export interface FoldJob {
  /** the lib/config values the run came from (to run the method's prepare, which may fetch stored stages) */
  base: Config;
  config: RunConfig;
  split: FoldSplit;
  checkpointFile: string;
  /** copies of the checkpoint to keep, by epoch (e.g. SPNDL's models at pace ends) */
  snapshots?: Record<number, string>;
  resultsDir?: string;
  /** names the run in the worker's prepare cache */
  runId: string;
}

/** What the workers hold of a set: its arrays in shared memory, the rest cloned once. */
export type SharedSet = FerSet & { key: string };

export type ToFoldWorker = { type: 'set'; set: SharedSet } | { type: 'job'; id: number; setKey: string; job: FoldJob };
export type FromFoldWorker =
  | { type: 'ready' }
  | { type: 'epoch'; id: number; row: EpochRow }
  | { type: 'done'; id: number; result: FoldResult }
  | { type: 'error'; id: number | null; message: string };

interface Slot {
  worker: Worker;
  index: number;
  ready: Promise<void>;
  sets: Set<string>;
  busy: boolean;
}

interface Queued {
  id: number;
  job: FoldJob;
  set: SharedSet;
  onEpoch?: (row: EpochRow) => void;
  resolve(result: FoldResult): void;
  reject(e: Error): void;
  /** the worker training it */
  slot?: Slot;
}

const shared = new WeakMap<FerSet, SharedSet>();

/** The set with its pixel arrays moved into SharedArrayBuffers (once per set object). */
function shareSet(set: FerSet): SharedSet {
  let s = shared.get(set);
  if (!s) {
    const copy = (a: Float32Array) => {
      const out = new Float32Array(new SharedArrayBuffer(a.byteLength));
      out.set(a);
      return out;
    };
    s = { ...set, key: setFingerprint(set), images: copy(set.images), neutral: set.neutral ? copy(set.neutral) : null };
    shared.set(set, s);
  }
  return s;
}

export class FoldPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private readonly running = new Map<number, Queued>();
  private nextId = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2) throw new Error(`fold pool: size=${size} must be a whole number >= 2`);
  }

  /** Trains one fold in a worker; `onEpoch` sees each epoch's row as it lands (progress only: it cannot stop the fold). */
  train(job: FoldJob, set: FerSet, onEpoch?: (row: EpochRow) => void): Promise<FoldResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, set: shareSet(set), onEpoch, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every worker (queued folds fail). */
  async close(): Promise<void> {
    for (const q of this.queue.splice(0)) q.reject(new Error('the fold pool was closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.size) slot = this.start(this.slots.length);
      if (!slot) return;
      const q = this.queue.shift()!;
      this.send(slot, q);
    }
  }

  private send(slot: Slot, q: Queued): void {
    slot.busy = true;
    slot.worker.ref(); // hold the process open while a fold trains
    this.running.set(q.id, q);
    slot.ready.then(() => {
      if (!slot.sets.has(q.set.key)) {
        slot.worker.postMessage({ type: 'set', set: q.set } satisfies ToFoldWorker);
        slot.sets.add(q.set.key);
      }
      slot.worker.postMessage({ type: 'job', id: q.id, setKey: q.set.key, job: q.job } satisfies ToFoldWorker);
    }, (e: Error) => this.finish(slot, q, e));
    q.slot = slot;
  }

  private finish(slot: Slot, q: Queued, error?: Error, result?: FoldResult): void {
    this.running.delete(q.id);
    slot.busy = false;
    slot.worker.unref();
    if (error) q.reject(error);
    else q.resolve(result!);
    this.dispatch();
  }

  private start(index: number): Slot {
    const script = workerScript(__dirname, 'fold-worker');
    // one thread per worker; the backend the main thread chose (the pool only runs on wasm)
    const worker = new Worker(script.code, { eval: script.eval, env: { ...process.env, FER_THREADS: '1', FER_BACKEND: 'wasm' } });
    worker.unref();
    let markReady: () => void = () => undefined, failStart: (e: Error) => void = () => undefined;
    const slot: Slot = { worker, index, sets: new Set(), busy: false, ready: new Promise((res, rej) => { markReady = res; failStart = rej; }) };
    slot.ready.catch(() => undefined); // a start failure is reported through the fold that waits on it
    const failAll = (why: string) => {
      for (const q of [...this.running.values()].filter((r) => r.slot === slot)) {
        this.finish(slot, q, new Error(`fold worker ${index}, ${q.job.runId} fold ${q.job.split.fold + 1}: ${why}`));
      }
      this.slots.splice(this.slots.indexOf(slot), 1); // a later fold starts a fresh worker
    };
    worker.on('message', (msg: FromFoldWorker) => {
      if (msg.type === 'ready') return markReady();
      const q = msg.id === null ? undefined : this.running.get(msg.id);
      if (msg.type === 'epoch') q?.onEpoch?.(msg.row);
      else if (msg.type === 'done' && q) this.finish(slot, q, undefined, msg.result);
      else if (msg.type === 'error' && q) this.finish(slot, q, new Error(`fold worker ${index}, ${q.job.runId} fold ${q.job.split.fold + 1}: ${msg.message}`));
      else if (msg.type === 'error') {
        failStart(new Error(`fold worker ${index} failed while starting: ${msg.message}`));
        failAll(msg.message);
      }
    });
    worker.on('error', (e) => { failStart(e); failAll(e.message); });
    worker.on('exit', (code) => { failStart(new Error(`it exited with code ${code}`)); failAll(`it exited with code ${code}`); });
    this.slots.push(slot);
    return slot;
  }
}

const pools = new Map<number, FoldPool>();
let inWorker = false;

/** Marks this thread as a fold worker: runs it starts (stored stages) train in-process. */
export function markFoldWorker(): void {
  inWorker = true;
}

/** The pool size `workers` asks for on wasm (0: one per core, at most 4); a plan run locally starts as many tasks. */
export function workerCount(config: Pick<Config, 'workers'>): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return config.workers > 0 ? config.workers : Math.max(1, Math.min(cores, 4));
}

/** Folds trained at once, from `workers` (0: one per core on wasm, at most 4; 1: in this process). */
export function foldWorkersFor(config: Pick<Config, 'workers'>): number {
  if (inWorker || tf.getBackend() !== 'wasm') return 1;
  return workerCount(config);
}

/** The process's pool of that many workers, made on first use; null when folds train in this process. */
export function foldPool(config: Pick<Config, 'workers'>): FoldPool | null {
  const n = foldWorkersFor(config);
  if (n <= 1) return null;
  let p = pools.get(n);
  if (!p) pools.set(n, (p = new FoldPool(n)));
  return p;
}

/** How folds train in this process, for notebook 00 and the bench. */
export function foldPoolInfo(config: Pick<Config, 'workers'>): { workers: number; why: string } {
  const n = foldWorkersFor(config);
  const why = tf.getBackend() !== 'wasm'
    ? `the ${tf.getBackend()} backend trains folds in this process (the pool is for wasm's single-threaded workers)`
    : n > 1 ? `${n} folds at once, each in a worker thread with a single-threaded wasm backend`
      : 'one fold at a time in this process (workers=1 or one core)';
  return { workers: n, why };
}
