/**
 * Turning dataset samples into batch tensors: targets, their neutral
 * references when a method trains on pairs, labels and the sample indices.
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import type { FerSet } from '../data/dataset';
import type { Batch } from './run-types';
import { augmentPairs, AugmentOptions } from '../data/augment';
import { rng, Rng, shuffled } from '../data/random';

/** [n, size, size, channels] tensor of the given samples. */
export function gatherImages(images: Float32Array, size: number, channels: number, samples: ArrayLike<number>): tf.Tensor4D {
  const per = size * size * channels;
  const out = new Float32Array(samples.length * per);
  for (let i = 0; i < samples.length; i++) out.set(images.subarray(samples[i] * per, (samples[i] + 1) * per), i * per);
  return tf.tensor4d(out, [samples.length, size, size, channels]);
}

/** A batch of the given dataset samples; `pairs` adds each target's neutral reference. */
export function makeBatch(set: FerSet, samples: Int32Array, pairs: boolean): Batch {
  if (pairs && !set.neutral) throw new Error(`dataset '${set.name}' has no neutral references, but the method trains on (target, neutral) pairs`);
  const labels = new Int32Array(samples.length);
  samples.forEach((s, i) => { labels[i] = set.labels[s]; });
  return {
    target: gatherImages(set.images, set.size, set.channels, samples),
    neutral: pairs ? gatherImages(set.neutral!, set.size, set.channels, samples) : null,
    labels: tf.tensor1d(labels, 'int32'),
    samples,
  };
}

export const disposeBatch = (b: Batch) => tf.dispose([b.target, b.labels, ...(b.neutral ? [b.neutral] : [])]);

/** A seeded shuffle of `samples` cut into chunks of `batchSize` (the last, shorter one kept). */
export function shuffledBatches(samples: Int32Array, seed: number, batchSize: number): Int32Array[] {
  const order = Int32Array.from(shuffled(rng(seed, 'batches'), Array.from(samples)));
  const out: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.subarray(i, i + batchSize));
  return out;
}

/** In-order chunks (evaluation). */
export function chunks(samples: Int32Array, size: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i < samples.length; i += size) out.push(samples.subarray(i, i + size));
  return out;
}

/**
 * The batch with training augmentation (lib/data/augment: flip or noise, the
 * same op on a target and its reference). New image tensors (the caller
 * disposes them); labels and samples are shared with `batch`.
 */
export function augmentBatch(batch: Batch, r: Rng, opts: Partial<AugmentOptions> = {}): Batch {
  const [, size, , channels] = batch.target.shape;
  const out = augmentPairs(batch.target.dataSync() as Float32Array, batch.neutral ? batch.neutral.dataSync() as Float32Array : null, size, channels, r, opts);
  return {
    ...batch,
    target: tf.tensor4d(out.targets, batch.target.shape),
    neutral: out.neutrals ? tf.tensor4d(out.neutrals, batch.target.shape) : null,
  };
}
