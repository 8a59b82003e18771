/**
 * Measuring training speed: the "cnn3" reference workload, FLOP counts from
 * layer shapes, and a timed Adam step. cnn3 is conv 3x3 32 -> maxpool 2 ->
 * conv 3x3 64 -> maxpool 2 -> conv 3x3 128 -> global average pool -> dense,
 * ReLU after each conv, softmax cross-entropy; at 64x64x1 and batch 32 it is
 * the project's yardstick ("cnn3-64"). `npm run bench` (tools/bench.ts) runs
 * it on every backend, and data-parallel on worker threads
 * (lib/train/data-parallel.ts, which builds each replica from a named
 * factory: `modelFactory`); notebook 00 times a few steps.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../models/backbones';
import { DataParallelTrainer, type ModelFactory } from '../train/data-parallel';

/** A factory data-parallel workers can call: one of this module's builders with its arguments. */
export function modelFactory<K extends 'buildCnn3' | 'buildLiteCnnClassifier'>(exportName: K, ...args: Parameters<(typeof builders)[K]>): ModelFactory {
  return { module: __filename, exportName, args };
}

export function buildCnn3(size: number, channels: number, classes = 7, seed = 1): tf.LayersModel {
  const conv = (filters: number, k: number, inputShape?: number[]) => tf.layers.conv2d({
    filters, kernelSize: 3, padding: 'same', activation: 'relu',
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + k }), ...(inputShape ? { inputShape } : {}),
  });
  return tf.sequential({
    layers: [
      conv(32, 0, [size, size, channels]),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(64, 1),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(128, 2),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 3 }) }),
    ],
  });
}

/**
 * The papers' lite-profile classifier: the 'lite-cnn' backbone (4 blocks of
 * conv 3x3 -> batch norm -> ReLU -> max-pool 2, global average pooling) with a
 * dense softmax head, as the baseline, SPNDL and GNDL train it in the lite profile.
 */
export function buildLiteCnnClassifier(size: number, channels: number, width: number, classes = 7, seed = 1): tf.LayersModel {
  const backbone = buildBackbone('lite-cnn', { inputShape: [size, size, channels], width, seed });
  const features = backbone.model.outputs[0];
  const logits = tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) })
    .apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: backbone.model.inputs, outputs: logits });
}

/** FLOPs (2 per multiply-add) of one image's forward pass through the conv2d and dense layers. */
export function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const inShape = layer.inputSpec?.[0]?.shape ?? (layer.input as tf.SymbolicTensor).shape;
    const cin = inShape[inShape.length - 1] as number;
    if (layer.getClassName() === 'Conv2D') {
      const [kh, kw] = layer.getConfig().kernelSize as number[];
      flops += 2 * out[1] * out[2] * out[3] * kh * kw * cin;
    } else if (layer.getClassName() === 'Dense') {
      flops += 2 * cin * out[out.length - 1];
    }
  }
  return flops;
}

const builders = { buildCnn3, buildLiteCnnClassifier };

export interface TrainingStep {
  /** one Adam step on the fixed batch; returns the loss (waits for the step to finish) */
  step(): number;
  /** frees the model, optimiser and batch */
  dispose(): void;
}

/** The fixed random batch (seeded) every timed step trains on: inputs in [0, 1) and int32 class labels. */
function fixedBatch(input: number[], opts: { classes: number; batch: number; seed?: number }): { x: tf.Tensor; labels: tf.Tensor1D } {
  const seed = opts.seed ?? 1;
  return {
    x: tf.randomUniform([opts.batch, ...input], 0, 1, 'float32', seed),
    labels: tf.randomUniform([opts.batch], 0, opts.classes, 'int32', seed + 1) as tf.Tensor1D,
  };
}

/** Adam steps of `model` on one fixed random batch (seeded); takes ownership of the model. */
export function makeTrainingStep(model: tf.LayersModel, opts: { classes: number; batch: number; seed?: number }): TrainingStep {
  const input = (model.inputs[0].shape as number[]).slice(1);
  const optimizer = tf.train.adam(1e-3);
  const batch = fixedBatch(input, opts);
  const x = batch.x;
  const labels = tf.tidy(() => tf.oneHot(batch.labels, opts.classes));
  batch.labels.dispose();
  return {
    step: () => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
      const value = loss!.dataSync()[0];
      loss!.dispose();
      return value;
    },
    dispose: () => { tf.dispose([x, labels]); optimizer.dispose(); model.dispose(); },
  };
}

export interface DataParallelTrainingStep {
  /** one data-parallel Adam step on the fixed batch; resolves to the loss */
  step(): Promise<number>;
  /** ends the workers, frees the model, optimiser and batch */
  dispose(): Promise<void>;
}

/** The same steps as makeTrainingStep (same batch), split over `workers` single-threaded replicas. */
export async function makeDataParallelTrainingStep(factory: ModelFactory, opts: { classes: number; batch: number; seed?: number; workers: number }): Promise<DataParallelTrainingStep> {
  // epsilon 1e-7: tf.train.adam's default, which makeTrainingStep uses
  const trainer = await DataParallelTrainer.create({ factory, workers: opts.workers, optimizer: { kind: 'adam', learningRate: 1e-3, epsilon: 1e-7 } });
  const batch = fixedBatch((trainer.model.inputs[0].shape as number[]).slice(1), opts);
  const [x, labels] = [batch.x.dataSync() as Float32Array, batch.labels.dataSync() as Int32Array];
  tf.dispose([batch.x, batch.labels]);
  return { step: () => trainer.step(x, labels), dispose: () => trainer.dispose() };
}

export interface TrainingSpeed {
  imagesPerSecond: number;
  msPerStep: number;
  /** achieved GFLOP/s, counting forward + both gradients as 3x the forward FLOPs */
  gflopsPerSecond: number;
  steps: number;
  batch: number;
}

type SpeedOptions = { size: number; channels: number; batch: number; steps: number; warmup?: number; seed?: number };

/** Times `steps` training steps of cnn3 after `warmup` untimed ones (kernel set-up, allocation), in one process. */
export function timeCnn3Training(opts: SpeedOptions): TrainingSpeed {
  const model = buildCnn3(opts.size, opts.channels, 7, opts.seed ?? 1);
  const flops = forwardFlops(model);
  const trainer = makeTrainingStep(model, { classes: 7, batch: opts.batch, seed: opts.seed });
  try {
    for (let i = 0; i < (opts.warmup ?? 2); i++) trainer.step();
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) trainer.step();
    return speedOf(performance.now() - t0, flops, opts);
  } finally {
    trainer.dispose();
  }
}

/** The same timing, data-parallel over `workers` single-threaded replicas (lib/train/data-parallel.ts). */
export async function timeCnn3DataParallelTraining(opts: SpeedOptions & { workers: number }): Promise<TrainingSpeed> {
  const model = buildCnn3(opts.size, opts.channels, 7, opts.seed ?? 1);
  const flops = forwardFlops(model);
  model.dispose();
  const trainer = await makeDataParallelTrainingStep(modelFactory('buildCnn3', opts.size, opts.channels, 7, opts.seed ?? 1), { classes: 7, batch: opts.batch, seed: opts.seed, workers: opts.workers });
  try {
    for (let i = 0; i < (opts.warmup ?? 2); i++) await trainer.step();
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) await trainer.step();
    return speedOf(performance.now() - t0, flops, opts);
  } finally {
    await trainer.dispose();
  }
}

function speedOf(totalMs: number, flops: number, opts: SpeedOptions): TrainingSpeed {
  const ms = totalMs / opts.steps;
  const imagesPerSecond = (opts.batch * 1000) / ms;
  return { imagesPerSecond, msPerStep: ms, gflopsPerSecond: (3 * flops * imagesPerSecond) / 1e9, steps: opts.steps, batch: opts.batch };
}
