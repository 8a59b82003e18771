/**
 * Linear probe: a multinomial logistic regression fitted on frozen features
 * of training samples and scored on test samples. Used to measure how much
 * of a label (pose, identity, ...) a representation still carries: DDL's
 * "disturbance-disentangled" claim predicts a low probe accuracy on the
 * expression features (our diagnostic; the paper does not measure it). Features are
 * standardised with the training mean and spread; weights start at zero and
 * full-batch Adam runs a fixed number of steps, so the fit is deterministic.
 * @see notebooks/05-ddl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { yieldForGpu } from '../backend/gpu-yield';

export interface ProbeOptions {
  /** full-batch optimisation steps (default 300) */
  steps?: number;
  learningRate?: number;
  /** L2 penalty on the weights (default 1e-3) */
  l2?: number;
}

export interface ProbeResult {
  classes: number;
  train: number;
  test: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** share of the most frequent training class among the test samples: what a constant guess scores */
  chance: number;
}

/**
 * Fits the probe. `features` is [n, dim] row-major; `labels[i]` a class index,
 * or -1 for a sample without this label (skipped); `train`/`test` are sample indices.
 */
export async function linearProbe(features: Float32Array, dim: number, labels: ArrayLike<number>, train: ArrayLike<number>, test: ArrayLike<number>, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const n = features.length / dim;
  if (!Number.isInteger(n) || labels.length !== n) throw new Error(`linear probe: ${features.length} feature values of dim ${dim} for ${labels.length} labels`);
  const keep = (idx: ArrayLike<number>) => Array.from(idx).filter((i) => labels[i] >= 0);
  const tr = keep(train), te = keep(test);
  if (!tr.length || !te.length) throw new Error(`linear probe: ${tr.length} labelled training and ${te.length} labelled test samples`);
  const k = Math.max(...Array.from(labels)) + 1;
  if (k < 2) throw new Error('linear probe: the label has fewer than 2 classes');
  const rows = (idx: number[]) => {
    const out = new Float32Array(idx.length * dim);
    idx.forEach((s, r) => out.set(features.subarray(s * dim, (s + 1) * dim), r * dim));
    return tf.tensor2d(out, [idx.length, dim]);
  };
  const counts = new Array<number>(k).fill(0);
  for (const i of tr) counts[labels[i]]++;
  const majority = counts.indexOf(Math.max(...counts));
  // tidy: a variable shares its initial tensor's data, and that tensor would otherwise stay counted
  const w = tf.tidy(() => tf.variable(tf.zeros([dim, k])));
  const b = tf.tidy(() => tf.variable(tf.zeros([k])));
  const opt = tf.train.adam(opts.learningRate ?? 0.05);
  try {
    const [xtr, xte] = tf.tidy(() => {
      const a = rows(tr);
      const { mean, variance } = tf.moments(a, 0);
      const sd = tf.add(tf.sqrt(variance), 1e-6);
      return [tf.div(tf.sub(a, mean), sd), tf.div(tf.sub(rows(te), mean), sd)];
    });
    const ytr = tf.tidy(() => tf.oneHot(tf.tensor1d(tr.map((i) => labels[i]), 'int32'), k));
    const l2 = opts.l2 ?? 1e-3;
    for (let s = 0; s < (opts.steps ?? 300); s++) {
      opt.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(ytr, tf.add(tf.matMul(xtr, w), b)), tf.mul(l2, tf.sum(tf.square(w)))) as tf.Scalar, false, [w, b]);
      await yieldForGpu();
    }
    const acc = (x: tf.Tensor2D, idx: number[]) => {
      const pred = tf.tidy(() => tf.argMax(tf.add(tf.matMul(x, w), b), 1).dataSync());
      return idx.filter((i, r) => pred[r] === labels[i]).length / idx.length;
    };
    const result: ProbeResult = {
      classes: k, train: tr.length, test: te.length,
      trainAccuracy: acc(xtr as tf.Tensor2D, tr), testAccuracy: acc(xte as tf.Tensor2D, te),
      chance: te.filter((i) => labels[i] === majority).length / te.length,
    };
    tf.dispose([xtr, xte, ytr]);
    return result;
  } finally {
    tf.dispose([w, b]);
    opt.dispose();
  }
}
