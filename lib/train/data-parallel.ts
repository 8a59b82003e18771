/**
 * Data-parallel training of a plain classifier on several cores: N
 * worker_threads, each with its own single-threaded wasm backend
 * (FER_THREADS=1) and a replica of the model, share one training step.
 *
 * Each step the batch is cut into N fixed contiguous slices (sizes differ by
 * at most one); worker i computes the softmax cross-entropy of its slice and
 * the gradients of every trainable weight, and writes them into its own
 * SharedArrayBuffer. The main thread averages them in worker order, weighted
 * by slice size (the gradient of the whole batch's mean loss), applies ONE
 * optimiser step (lib/train/optim.ts) to its copy of the weights (all
 * trainable weights as one flat variable: Adam is elementwise, and one
 * variable costs a few kernel calls instead of a dozen per weight), and
 * writes the new weights into a shared buffer every replica loads before its
 * next slice. A model with a trainable weight its loss does not reach is
 * refused at the first step. Same factory arguments (seed) and batches -> same weights on
 * every run: each worker computes alone on one thread, and the sum has a
 * fixed order.
 *
 * Batch normalisation: each replica normalises with its own slice's
 * statistics (per-slice BN, as in multi-GPU training without sync-BN), so a
 * model with BN does not train exactly as on the whole batch; the moving
 * mean/variance (and any other non-trainable weight) are averaged over the
 * slices, weighted by size, after every step, so replicas stay identical.
 *
 * Why: on 2 cores, two single-threaded replicas beat one two-threaded
 * process (the threaded build leaves parts of the backward pass on one
 * thread); see `npm run bench`.
 *
 * Replicas are built by a named factory ({module, exportName, args}), since
 * functions cannot cross to a worker. Workers hold the process open only
 * while a step runs; `dispose()` ends them.
 * @see notebooks/00-environment.ipynb
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { OptimizerSpec, TrainOptimizer } from './optim';
import { workerScript } from './worker-script';

/** A model builder a worker can call: `require(module)[exportName](...args)` returns a tf.LayersModel (or a promise of one). */
export interface ModelFactory {
  /** absolute path or package name, e.g. require.resolve('../bench/training-speed') */
  module: string;
  exportName: string;
  /** structured-cloneable arguments; include the seed here */
  args: unknown[];
}

export interface DataParallelOptions {
  factory: ModelFactory;
  optimizer: OptimizerSpec;
  /** worker threads (default 2) */
  workers?: number;
}

/** Shapes of the weights replicas exchange, in model order. */
export interface WeightLayout {
  trainable: number[][];
  nonTrainable: number[][];
}

/** Messages between the main thread and a worker (data-parallel-worker.ts). */
export type ToWorker =
  | { type: 'step'; step: number; start: number; count: number; inputs?: { x: SharedArrayBuffer; labels: SharedArrayBuffer } };
export type FromWorker =
  | { type: 'ready'; layout: WeightLayout }
  | { type: 'done'; step: number; loss: number; tensors: number; missing: number[] }
  | { type: 'error'; step: number | null; message: string };

export interface WorkerInit {
  factory: ModelFactory;
  index: number;
  /** all weights, trainable then non-trainable, in model order (read by every worker) */
  weights: SharedArrayBuffer;
  /** this worker's gradients, then its non-trainable weights after the step */
  output: SharedArrayBuffer;
}

/** Builds the model a factory names (the main thread and every worker use this). */
export async function buildFromFactory(factory: ModelFactory): Promise<tf.LayersModel> {
  let mod: Record<string, unknown>;
  try {
    mod = require(factory.module) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`model factory module '${factory.module}' cannot be loaded: ${(e as Error).message.split('\n')[0]}`);
  }
  const fn = mod[factory.exportName];
  if (typeof fn !== 'function') throw new Error(`model factory '${factory.exportName}' is not a function exported by ${factory.module}`);
  const model = await (fn as (...a: unknown[]) => unknown)(...factory.args);
  if (!(model instanceof tf.LayersModel)) throw new Error(`model factory ${factory.exportName}(${JSON.stringify(factory.args)}) did not return a tf.LayersModel`);
  return model;
}

export function weightLayout(model: tf.LayersModel): WeightLayout {
  const shapes = (ws: tf.LayerVariable[]) => ws.map((w) => [...w.shape] as number[]);
  return { trainable: shapes(model.trainableWeights), nonTrainable: shapes(model.nonTrainableWeights) };
}

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Start offsets (in floats) of each shape in a flat buffer, plus the total at the end. */
export function offsets(shapes: number[][], start = 0): number[] {
  const out = [start];
  for (const s of shapes) out.push(out[out.length - 1] + sizeOf(s));
  return out;
}

/** Assigns consecutive slices of `flat` to `variables`, in order (a replica loading the shared weights). */
export function assignFlat(variables: tf.Variable[], flat: Float32Array): void {
  let offset = 0;
  tf.tidy(() => variables.forEach((v) => {
    const size = sizeOf(v.shape);
    v.assign(tf.tensor(flat.subarray(offset, offset + size), v.shape, v.dtype));
    offset += size;
  }));
}

/** The N contiguous slices [start, end) a batch is cut into (sizes differ by at most one; some are empty when batch < N). */
export function sliceBounds(batch: number, workers: number): [number, number][] {
  return Array.from({ length: workers }, (_, i) => [Math.floor((i * batch) / workers), Math.floor(((i + 1) * batch) / workers)]);
}

/** The worker script; from TypeScript sources (tests under tsx) a worker registers tsx's require hook first. */
let flatIds = 0;

interface Pending {
  resolve(msg: Extract<FromWorker, { type: 'done' }>): void;
  reject(e: Error): void;
}

export class DataParallelTrainer {
  /** tf.memory().numTensors of each worker after its last step (leak checks) */
  workerTensors: number[] = [];
  private steps = 0;
  private failure: Error | undefined;
  private disposed = false;
  private busy = false;
  private pending: (Pending | undefined)[];
  private inputs: { x: Float32Array; labels: Int32Array } | undefined;
  private readonly features: number;
  /** trainable weights, end to end: the optimiser updates them as one variable (one Adam for all, a few kernels per step) */
  private readonly flat: tf.Variable;
  private readonly trainableNames: string[];

  private constructor(
    /** the main thread's copy of the model, with the weights of the last step (evaluate, save or checkpoint it; do not train it directly) */
    readonly model: tf.LayersModel,
    /** the one optimiser, over all trainable weights as one flat variable; set its epoch (learning-rate schedule) as the trainer does */
    readonly optimizer: TrainOptimizer,
    private readonly workers: Worker[],
    private readonly weights: Float32Array,
    private readonly outputs: Float32Array[],
  ) {
    const trainable = offsets(weightLayout(model).trainable).pop()!;
    this.flat = tf.tidy(() => tf.variable(tf.tensor1d(weights.slice(0, trainable)), true, `data-parallel-weights-${flatIds++}`));
    this.trainableNames = model.trainableWeights.map((w) => w.name);
    this.features = sizeOf((model.inputs[0].shape as number[]).slice(1));
    this.pending = workers.map(() => undefined);
    workers.forEach((w, i) => this.listen(w, i));
  }

  /** Builds the main copy and N replicas; resolves once every worker is ready. */
  static async create(opts: DataParallelOptions): Promise<DataParallelTrainer> {
    const n = opts.workers ?? 2;
    if (!Number.isInteger(n) || n < 1) throw new Error(`data-parallel: workers=${n} must be a whole number >= 1`);
    const model = await buildFromFactory(opts.factory);
    let optimizer: TrainOptimizer | undefined;
    const workers: Worker[] = [];
    try {
      if (model.inputs.length !== 1 || model.outputs.length !== 1) {
        throw new Error(`data-parallel: the model of ${opts.factory.exportName} must have one input and one output (logits)`);
      }
      optimizer = new TrainOptimizer(opts.optimizer);
      const layout = weightLayout(model);
      const total = offsets([...layout.trainable, ...layout.nonTrainable]).pop()!;
      const weights = new Float32Array(new SharedArrayBuffer(4 * total));
      let offset = 0;
      for (const w of [...model.trainableWeights, ...model.nonTrainableWeights]) {
        const data = w.read().dataSync() as Float32Array;
        weights.set(data, offset);
        offset += data.length;
      }
      const outputs = Array.from({ length: n }, () => new Float32Array(new SharedArrayBuffer(4 * total)));
      const script = workerScript(__dirname, 'data-parallel-worker');
      const ready: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const init: WorkerInit = { factory: opts.factory, index: i, weights: weights.buffer as SharedArrayBuffer, output: outputs[i].buffer as SharedArrayBuffer };
        // wasm by name: the automatic choice would try the GPU backends (loading Dawn) in every worker
        const env = { ...process.env, FER_THREADS: '1', FER_BACKEND: 'wasm' };
        const worker = new Worker(script.code, { eval: script.eval, workerData: init, env });
        workers.push(worker);
        ready.push(new Promise((resolve, reject) => {
          // named listeners, removed one by one: removeAllListeners() would also stop a Worker's message delivery
          const onError = (e: Error) => fail(e.message);
          const onExit = (code: number) => fail(`it exited with code ${code}`);
          const onMessage = (msg: FromWorker) => {
            if (msg.type === 'error') return fail(msg.message);
            if (msg.type !== 'ready') return fail(`unexpected message '${msg.type}'`);
            if (JSON.stringify(msg.layout) !== JSON.stringify(layout)) return fail('its replica has other weight shapes than the main model (does the factory build the same model every call?)');
            settle();
            resolve();
          };
          const settle = () => { worker.off('error', onError); worker.off('exit', onExit); worker.off('message', onMessage); };
          const fail = (why: string) => { settle(); reject(new Error(`data-parallel worker ${i} failed while starting: ${why}`)); };
          worker.on('error', onError);
          worker.on('exit', onExit);
          worker.on('message', onMessage);
        }));
      }
      await Promise.all(ready);
      return new DataParallelTrainer(model, optimizer, workers, weights, outputs);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      optimizer?.dispose();
      model.dispose();
      throw e;
    }
  }

  private listen(worker: Worker, i: number): void {
    worker.unref(); // held only while a step runs: a forgotten dispose() never hangs the process
    const fail = (why: string, step = this.steps) => {
      this.failure ??= new Error(`data-parallel worker ${i} failed at step ${step}: ${why}`);
      for (const p of this.pending) p?.reject(this.failure);
      this.pending.fill(undefined);
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => { if (!this.disposed) fail(`it exited with code ${code}`); });
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'error') return fail(msg.message, msg.step ?? this.steps);
      if (msg.type === 'done') {
        const p = this.pending[i];
        this.pending[i] = undefined;
        p?.resolve(msg);
      }
    });
  }

  /**
   * One optimiser step on a batch: `x` [B, ...input] float32, `labels` [B]
   * class indices. Returns the batch's mean cross-entropy (before the step).
   */
  async step(x: tf.Tensor | Float32Array, labels: tf.Tensor | Int32Array): Promise<number> {
    if (this.disposed) throw new Error('data-parallel: step() after dispose()');
    if (this.failure) throw this.failure;
    if (this.busy) throw new Error(`data-parallel: step() called while step ${this.steps} runs (await each step)`);
    this.busy = true;
    try {
      return await this.runStep(++this.steps, x, labels);
    } finally {
      this.busy = false;
    }
  }

  private async runStep(step: number, x: tf.Tensor | Float32Array, labels: tf.Tensor | Int32Array): Promise<number> {
    const xs = x instanceof tf.Tensor ? (x.dataSync() as Float32Array) : x;
    const ys = labels instanceof tf.Tensor ? (labels.dataSync() as Int32Array) : labels;
    const batch = ys.length;
    if (batch === 0 || xs.length !== batch * this.features) {
      throw new Error(`data-parallel step ${step}: ${xs.length} input values for ${batch} labels (expected ${this.features} per sample)`);
    }
    let sent: ToWorker['inputs'];
    if (!this.inputs || this.inputs.labels.length < batch) {
      this.inputs = { x: new Float32Array(new SharedArrayBuffer(4 * batch * this.features)), labels: new Int32Array(new SharedArrayBuffer(4 * batch)) };
      sent = { x: this.inputs.x.buffer as SharedArrayBuffer, labels: this.inputs.labels.buffer as SharedArrayBuffer };
    }
    this.inputs.x.set(xs);
    this.inputs.labels.set(ys);

    const slices = sliceBounds(batch, this.workers.length);
    const results = await Promise.all(this.workers.map((worker, i) => {
      const [start, end] = slices[i];
      if (end === start) return undefined;
      worker.ref();
      return new Promise<Extract<FromWorker, { type: 'done' }>>((resolve, reject) => {
        this.pending[i] = { resolve, reject };
        worker.postMessage({ type: 'step', step, start, count: end - start, inputs: sent } satisfies ToWorker);
      }).finally(() => worker.unref());
    }));
    results.forEach((r, i) => { if (r) this.workerTensors[i] = r.tensors; });

    // weighted sums in worker order: the whole batch's mean gradient, loss and moving statistics
    const share = slices.map(([s, e]) => (e - s) / batch);
    const used = share.map((w, i) => (w > 0 ? i : -1)).filter((i) => i >= 0);
    const weightedSum = (from: number, to: number) => {
      const out = new Float32Array(to - from);
      for (const i of used) {
        const src = this.outputs[i], w = share[i];
        for (let k = 0; k < out.length; k++) out[k] += w * src[from + k];
      }
      return out;
    };
    const loss = used.reduce((s, i) => s + share[i] * results[i]!.loss, 0);
    const missing = used.flatMap((i) => results[i]!.missing);
    if (missing.length) {
      this.failure = new Error(`data-parallel step ${step}: no gradient reaches ${this.trainableNames[missing[0]]} in worker ${used.find((i) => results[i]!.missing.length)}; data-parallel training needs a loss that reaches every trainable weight`);
      throw this.failure;
    }
    const trainable = this.flat.size;
    // Adam is elementwise, so one flat variable updates exactly as the separate ones would
    tf.tidy(() => this.optimizer.applyGradients([{ variable: this.flat, gradient: tf.tensor1d(weightedSum(0, trainable)) }]));
    this.weights.set(this.flat.dataSync() as Float32Array, 0);
    this.weights.set(weightedSum(trainable, this.weights.length), trainable);
    // the main copy follows (a few hundred microseconds): a reference to `model` is never stale
    assignFlat([...this.model.trainableWeights, ...this.model.nonTrainableWeights].map((w) => w.read() as tf.Variable), this.weights);
    return loss;
  }

  /** Workers whose thread still runs (0 after dispose()). */
  get runningWorkers(): number {
    return this.workers.filter((w) => w.threadId !== -1).length;
  }

  /** Ends the workers and frees the main model and optimiser. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.optimizer.dispose();
    this.flat.dispose();
    this.model.dispose();
  }
}
