/**
 * The paired forward pass of SPNDL and GNDL: a target face and its neutral
 * reference go through ONE shared backbone as members of one batch, so every
 * normalisation layer computes its statistics over target and reference
 * features together (SPNDL §3.2 and §4.4, "pair normalisation"; our reading of
 * its Eqs. 4–6 and GNDL Eqs. 4–6: plain BN over the concatenated 2m images,
 * i.e. 1/(2m·H·W) per channel).
 * The neutral-expression-disentangled feature (NDF) is the target's pooled
 * feature minus the reference's.
 *
 * API (all functions are pure tensor functions; call them inside tf.tidy or
 * an optimiser step, which dispose the intermediates):
 *   pairedForward(backbone, target, reference, training, opts?) -> { target, reference, maps? }
 *   neutralDisentangled(target, reference) -> NDF = target − reference
 *   pairedNdf(backbone, target, reference, training, opts?) -> { target, reference, ndf }
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { Backbone, backboneForward } from './backbones';

/**
 * 'joint': one backbone call on concat([target, reference]) — the paper's
 * pair normalisation. 'separate': two calls, each image set normalised by its
 * own batch statistics (not in the paper; our ablation switch).
 * In eval mode both are identical (BN uses its running statistics).
 */
export type PairNorm = 'joint' | 'separate';
export const PAIR_NORMS: readonly PairNorm[] = ['joint', 'separate'];

export interface PairedOptions {
  pairNorm?: PairNorm;
  /** also return the backbone's feature maps of both streams */
  maps?: boolean;
}

export interface PairedFeatures {
  /** [m, D] pooled features of the targets */
  target: tf.Tensor2D;
  /** [m, D] pooled features of the references, same order */
  reference: tf.Tensor2D;
  /** named feature maps per stream, when asked for */
  maps?: { target: Record<string, tf.Tensor4D>; reference: Record<string, tf.Tensor4D> };
}

const halves = <T extends tf.Tensor>(x: T, m: number): [T, T] => {
  const [a, b] = tf.split(x, [m, m], 0);
  return [a as T, b as T];
};

/** Features of m (target, reference) pairs through one shared backbone. */
export function pairedForward(backbone: Backbone, target: tf.Tensor4D, reference: tf.Tensor4D, training: boolean, opts: PairedOptions = {}): PairedFeatures {
  const m = target.shape[0];
  if (reference.shape.join('x') !== target.shape.join('x')) {
    throw new Error(`paired forward: reference batch [${reference.shape}] does not match the target batch [${target.shape}]`);
  }
  const pairNorm = opts.pairNorm ?? 'joint';
  if (pairNorm === 'separate') {
    const t = backboneForward(backbone, target, training);
    const r = backboneForward(backbone, reference, training);
    return { target: t.features, reference: r.features, ...(opts.maps ? { maps: { target: t.maps, reference: r.maps } } : {}) };
  }
  // rows 0..m-1 targets, m..2m-1 their references: every BN layer sees all 2m images
  const both = backboneForward(backbone, tf.concat([target, reference], 0), training); // features [2m, D]
  const [ft, fr] = halves(both.features, m);
  if (!opts.maps) return { target: ft, reference: fr };
  const tMaps: Record<string, tf.Tensor4D> = {}, rMaps: Record<string, tf.Tensor4D> = {};
  for (const [name, map] of Object.entries(both.maps)) [tMaps[name], rMaps[name]] = halves(map, m);
  return { target: ft, reference: fr, maps: { target: tMaps, reference: rMaps } };
}

/** NDF (SPNDL Eq. 3): target features minus reference features, [m, D]. */
export function neutralDisentangled(target: tf.Tensor2D, reference: tf.Tensor2D): tf.Tensor2D {
  if (target.shape.join('x') !== reference.shape.join('x')) {
    throw new Error(`NDF: target features [${target.shape}] and reference features [${reference.shape}] differ in shape`);
  }
  return tf.sub(target, reference);
}

/** Paired forward pass and NDF in one call. */
export function pairedNdf(backbone: Backbone, target: tf.Tensor4D, reference: tf.Tensor4D, training: boolean, opts: PairedOptions = {}) {
  const f = pairedForward(backbone, target, reference, training, { pairNorm: opts.pairNorm });
  return { target: f.target, reference: f.reference, ndf: neutralDisentangled(f.target, f.reference) };
}
