/**
 * Losses every method uses, per sample first (SPL ranks per-sample losses),
 * then averaged.
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';

/** Cross-entropy of each sample, [B], from logits [B, K] and int32 labels [B]. */
export function crossEntropyPerSample(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const logp = tf.logSoftmax(logits); // [B, K]
    return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(labels, k)), 1)) as tf.Tensor1D;
  });
}

/** Mean cross-entropy over the batch (a scalar). */
export const crossEntropy = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar =>
  tf.tidy(() => tf.mean(crossEntropyPerSample(logits, labels)) as tf.Scalar);
