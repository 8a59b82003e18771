/**
 * SPNDL's networks (Wu et al. 2023, §3.2 and §4), one builder for
 * the three feature kinds the paper compares:
 * - 'target': one backbone on the target image (the baseline, SPNDL Sec. 4);
 * - 'ndf':    one shared backbone on (target, neutral reference) with pair
 *             normalisation, NDF = f_t − f_r (Eq. 3; lib/models/paired.ts);
 * - 'won':    "w/o neutral image" (Fig. 3): an expression backbone E and a
 *             neutral backbone N read the same target, NDF = E(x) − N(x)
 *             (Eq. 8). Both start from the same weights (the paper starts
 *             both from one face-recognition checkpoint) and both train; no
 *             symmetry-breaking trick (Sec. 3.2 starts both alike; the CE
 *             gradients on E and N are equal, opposite and non-zero).
 * Each ends in a linear softmax classifier on the feature.
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { Backbone, BackboneName, backboneFeatures, buildBackbone, trainableVariables } from './backbones';
import { loadPretrainedWeights } from './pretrained';
import { neutralDisentangled, PairNorm, pairedForward } from './paired';
import { linearClassifier } from './heads';

export const SPNDL_FEATURES = ['target', 'ndf', 'won'] as const;
export type SpndlFeature = (typeof SPNDL_FEATURES)[number];

export interface SpndlNetOptions {
  feature: SpndlFeature;
  backbone: BackboneName;
  /** [H, W, C] */
  inputShape: [number, number, number];
  width?: number;
  numClasses: number;
  seed: number;
  pairNorm?: PairNorm;
  /** TF.js model.json of pretrained backbone weights (every backbone starts from it) */
  pretrainedWeights?: string;
}

export interface SpndlInput {
  target: tf.Tensor4D;
  /** the neutral references ('ndf' only) */
  neutral: tf.Tensor4D | null;
}

export interface SpndlNet {
  feature: SpndlFeature;
  /** every weight-holding model, by name (checkpointed) */
  parts: Record<string, tf.LayersModel>;
  /** trainable variables of every part, fixed order */
  variables: tf.Variable[];
  featureDim: number;
  /** named features [B, D]: 'ndf' (or 'target' for the baseline) is what the classifier reads */
  features(x: SpndlInput, training: boolean): Record<string, tf.Tensor2D>;
  /** logits [B, K] */
  logits(x: SpndlInput, training: boolean): tf.Tensor2D;
}

export function buildSpndlNet(o: SpndlNetOptions): SpndlNet {
  if (!(SPNDL_FEATURES as readonly string[]).includes(o.feature)) throw new Error(`SPNDL feature '${o.feature}' is not one of: ${SPNDL_FEATURES.join(', ')}`);
  const make = (prefix: string): Backbone => {
    // same seed for E and N: identical starting weights, as from one checkpoint
    const b = buildBackbone(o.backbone, { inputShape: o.inputShape, width: o.width, seed: o.seed, prefix });
    if (o.pretrainedWeights) loadPretrainedWeights(b.model, o.pretrainedWeights, { prefix });
    return b;
  };
  const main = make(o.feature === 'won' ? 'expr.' : '');
  const neutralNet = o.feature === 'won' ? make('neutral.') : null;
  const head = linearClassifier(main.featureDim, o.numClasses, o.seed + 1);
  const parts: Record<string, tf.LayersModel> = neutralNet
    ? { expression: main.model, neutral: neutralNet.model, head }
    : { backbone: main.model, head };

  const features = (x: SpndlInput, training: boolean): Record<string, tf.Tensor2D> => {
    if (o.feature === 'target') return { target: backboneFeatures(main, x.target, training) };
    if (o.feature === 'won') {
      const e = backboneFeatures(main, x.target, training); // [B, D]
      const n = backboneFeatures(neutralNet!, x.target, training); // [B, D], own BN statistics
      return { expression: e, neutral: n, ndf: neutralDisentangled(e, n) };
    }
    if (!x.neutral) throw new Error("SPNDL feature 'ndf' needs each target's neutral reference (a dataset with neutral frames)");
    const f = pairedForward(main, x.target, x.neutral, training, { pairNorm: o.pairNorm });
    return { target: f.target, reference: f.reference, ndf: neutralDisentangled(f.target, f.reference) };
  };
  const classified = o.feature === 'target' ? 'target' : 'ndf';
  return {
    feature: o.feature, parts, featureDim: main.featureDim,
    variables: trainableVariables(...Object.values(parts)),
    features,
    logits: (x, training) => head.apply(features(x, training)[classified], { training }) as tf.Tensor2D,
  };
}
