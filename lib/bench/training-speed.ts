/**
 * Measuring training speed: the "cnn3" reference workload, FLOP counts from
 * layer shapes, and a timed Adam step. cnn3 is conv 3x3 32 -> maxpool 2 ->
 * conv 3x3 64 -> maxpool 2 -> conv 3x3 128 -> global average pool -> dense,
 * ReLU after each conv, softmax cross-entropy; at 64x64x1 and batch 32 it is
 * the project's yardstick ("cnn3-64"). `npm run bench` (tools/bench.ts) runs
 * it on every backend; notebook 00 times a few steps.
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../models/backbones';

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

export interface TrainingStep {
  /** one Adam step on the fixed batch; returns the loss (waits for the step to finish) */
  step(): number;
  /** frees the model, optimiser and batch */
  dispose(): void;
}

/** Adam steps of `model` on one fixed random batch (seeded); takes ownership of the model. */
export function makeTrainingStep(model: tf.LayersModel, opts: { classes: number; batch: number; seed?: number }): TrainingStep {
  const seed = opts.seed ?? 1;
  const input = (model.inputs[0].shape as number[]).slice(1);
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([opts.batch, ...input], 0, 1, 'float32', seed);
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([opts.batch], 0, opts.classes, 'int32', seed + 1) as tf.Tensor1D, opts.classes));
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

export interface TrainingSpeed {
  imagesPerSecond: number;
  msPerStep: number;
  /** achieved GFLOP/s, counting forward + both gradients as 3x the forward FLOPs */
  gflopsPerSecond: number;
  steps: number;
  batch: number;
}

/** Times `steps` training steps of cnn3 after `warmup` untimed ones (kernel set-up, allocation). */
export function timeCnn3Training(opts: { size: number; channels: number; batch: number; steps: number; warmup?: number; seed?: number }): TrainingSpeed {
  const model = buildCnn3(opts.size, opts.channels, 7, opts.seed ?? 1);
  const flops = forwardFlops(model);
  const trainer = makeTrainingStep(model, { classes: 7, batch: opts.batch, seed: opts.seed });
  try {
    for (let i = 0; i < (opts.warmup ?? 2); i++) trainer.step();
    const t0 = performance.now();
    for (let i = 0; i < opts.steps; i++) trainer.step();
    const ms = (performance.now() - t0) / opts.steps;
    const imagesPerSecond = (opts.batch * 1000) / ms;
    return { imagesPerSecond, msPerStep: ms, gflopsPerSecond: (3 * flops * imagesPerSecond) / 1e9, steps: opts.steps, batch: opts.batch };
  } finally {
    trainer.dispose();
  }
}
