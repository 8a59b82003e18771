/**
 * DDL's losses (DDL Sec. 3.2-3.3): the DFEM's multi-task cross-entropy with
 * missing labels skipped (Eq. 1; Sec. 4.2), the discriminator and adversarial terms
 * as the authors' code implements Eq. 5-6 (sigmoid BCE on logits,
 * non-saturating for S_d), and the attention-transfer loss (Eq. 7) with
 * batch-tensor (code) or per-sample (paper's vectorised form) normalisation.
 * @see notebooks/05-ddl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropyPerSample } from '../../train/losses';

/**
 * Σ_j mean over the samples that have label j of CE(head_j, y_j): labels
 * are int32 [B] with -1 for missing; a head with no labelled sample adds 0.
 */
export function maskedMultiTaskLoss(logits: tf.Tensor2D[], labels: tf.Tensor1D[]): tf.Scalar {
  return tf.tidy(() => logits.reduce((sum, z, j) => {
    const y = labels[j];
    const has = tf.cast(tf.greaterEqual(y, 0), 'float32'); // [B]
    const ce = crossEntropyPerSample(z, tf.maximum(y, tf.scalar(0, 'int32')) as tf.Tensor1D); // [B]; -1 mapped to class 0, then masked out
    const n = tf.sum(has);
    return tf.add(sum, tf.div(tf.sum(tf.mul(ce, has)), tf.maximum(n, 1)));
  }, tf.scalar(0)) as tf.Scalar);
}

const bce = (logits: tf.Tensor, target: 0 | 1): tf.Scalar =>
  tf.losses.sigmoidCrossEntropy(target ? tf.onesLike(logits) : tf.zerosLike(logits), logits) as tf.Scalar;

/** L_D (Eq. 6, as the authors' code computes it): fake f^d logits toward 0, each DFEM's real f^p logits toward 1. */
export const discriminatorLoss = (fakeLogits: tf.Tensor, realLogits: tf.Tensor[]): tf.Scalar =>
  tf.tidy(() => realLogits.reduce((s, r) => tf.add(s, bce(r, 1)), bce(fakeLogits, 0)) as tf.Scalar);

/** L_adv (Eqs. 5-6, as the authors' code computes it): S_d makes D call its f^d real (non-saturating form of max over S_d). */
export const adversarialLoss = (fakeLogits: tf.Tensor): tf.Scalar => tf.tidy(() => bce(fakeLogits, 1));

/** Euclidean norm with a finite gradient at 0 (tf.norm's is NaN there). */
const safeNorm = (t: tf.Tensor, axis?: number) =>
  tf.sqrt(tf.add(axis === undefined ? tf.sum(tf.square(t)) : tf.sum(tf.square(t), axis, true), 1e-12));

export type AtNorm = 'batch' | 'sample';

/**
 * L_AT (Eq. 7): Σ_j ‖Q_d^j/‖Q_d^j‖ − Q_p^j/‖Q_p^j‖‖. 'batch': norms over the
 * whole [B, H, W, C] tensor (the authors' code); 'sample': per-sample norms,
 * then the batch mean. Each level's term is in [0, 2] and scale-invariant.
 */
export function attentionTransferLoss(qd: tf.Tensor4D[], qp: tf.Tensor4D[], norm: AtNorm = 'batch'): tf.Scalar {
  if (qd.length !== qp.length) throw new Error(`attention transfer: ${qd.length} S_d maps for ${qp.length} DFEM maps`);
  return tf.tidy(() => qd.reduce((sum, d, j) => {
    const p = qp[j];
    if (d.shape.join() !== p.shape.join()) throw new Error(`attention transfer level ${j + 1}: S_d map [${d.shape}] vs DFEM map [${p.shape}]`);
    if (norm === 'batch') return tf.add(sum, safeNorm(tf.sub(tf.div(d, safeNorm(d)), tf.div(p, safeNorm(p)))));
    const flat = (t: tf.Tensor4D) => t.reshape([t.shape[0], -1]) as tf.Tensor2D;
    const unit = (t: tf.Tensor2D) => tf.div(t, safeNorm(t, 1));
    return tf.add(sum, tf.mean(safeNorm(tf.sub(unit(flat(d)), unit(flat(p))), 1)));
  }, tf.scalar(0)) as tf.Scalar);
}
