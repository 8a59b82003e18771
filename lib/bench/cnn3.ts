/**
 * The "cnn3" reference workload: conv 3x3 32 -> maxpool 2 -> conv 3x3 64 ->
 * maxpool 2 -> conv 3x3 128 -> global average pool -> dense, ReLU after each
 * conv, Adam, softmax cross-entropy. At 64x64x1, batch 32, it is the
 * project's yardstick for training speed ("cnn3-64", `npm run bench`).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';

export function buildCnn3(size: number, channels: number, classes = 7, seed = 1): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const conv = (filters: number, k: number, inputShape?: number[]) => tf.layers.conv2d({
    filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(k), ...(inputShape ? { inputShape } : {}),
  });
  const model = tf.sequential({
    layers: [
      conv(32, 0, [size, size, channels]),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(64, 1),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(128, 2),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: classes, kernelInitializer: init(3) }),
    ],
  });
  return model;
}

/** Multiply-adds of one forward pass of cnn3 at the given input size. */
export function cnn3ForwardFlops(size: number, channels: number, classes = 7): number {
  const conv = (hw: number, cin: number, cout: number) => 2 * hw * hw * cin * cout * 9;
  return conv(size, channels, 32) + conv(size / 2, 32, 64) + conv(size / 4, 64, 128) + 2 * 128 * classes;
}

export interface TrainingSpeed {
  imagesPerSecond: number;
  msPerStep: number;
  steps: number;
  batch: number;
}

/**
 * Times `steps` Adam steps of cnn3 on random data (after `warmup` untimed
 * steps, which compile kernels and allocate memory). Leaves no tensors behind.
 */
export async function timeCnn3Training(opts: { size: number; channels: number; batch: number; steps: number; warmup?: number; seed?: number }): Promise<TrainingSpeed> {
  const { size, channels, batch, steps } = opts;
  const model = buildCnn3(size, channels, 7, opts.seed ?? 1);
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, size, size, channels], 0, 1, 'float32', opts.seed ?? 1);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 7, 'int32', (opts.seed ?? 1) + 1), 7).toFloat());
  const step = () => optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.predict(x) as tf.Tensor) as tf.Scalar, true);
  try {
    for (let i = 0; i < (opts.warmup ?? 2); i++) {
      const l = step();
      await l?.data();
      l?.dispose();
    }
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const l = step();
      await l?.data();  // wait for the step to finish, as training does when it logs
      l?.dispose();
    }
    const ms = (performance.now() - t0) / steps;
    return { imagesPerSecond: (batch * 1000) / ms, msPerStep: ms, steps, batch };
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
}
