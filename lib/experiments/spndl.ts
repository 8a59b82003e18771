/**
 * SPNDL as a Method of the shared runner (Wu et al. 2023, §3 and §4.2):
 * the network of lib/models/spndl.ts, cross-entropy on the selected samples,
 * flip-or-noise augmentation applied alike to both images of a pair, and
 * class-wise self-paced learning done by the shared trainer (lib/train/spl.ts)
 * for the variants flagged `spl`.
 *
 * Variants (the names lib/results/paper-tables/spndl.ts links to; Table 4's target-only rows, the baseline
 * with and without SPL, are the shared baseline's runs, ./baseline.ts):
 *   ndf           NDF, pair normalisation      (Table 4 row 3)
 *   spndl         NDF + SPL                    (Table 4 row 4; Tables 1–2)
 *   spndl-won     E(x) − N(x) + SPL            (Tables 1–3, "w/o neutral image")
 *   won-nospl     E(x) − N(x), no SPL          (Fig. 6, without SPL)
 *   spndl-separate NDF + SPL, target and reference normalised separately (our ablation)
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneName } from '../models/backbones';
import { PAIR_NORMS, PairNorm } from '../models/paired';
import { buildSpndlNet, SPNDL_FEATURES, SpndlFeature } from '../models/spndl';
import { augmentBatch } from '../train/batches';
import { crossEntropy } from '../train/losses';
import { TrainOptimizer } from '../train/optim';
import { backboneInitStages, initialBackboneWeights, prepareBackboneInit } from './id-pretrain';
import type { BuildContext, Method, MethodModel } from '../train/run-types';
import { optimizerSpecFromConfig } from './settings';

function buildSpndl(ctx: BuildContext): MethodModel {
  const { config, data, options } = ctx;
  const net = buildSpndlNet({
    feature: options.feature as SpndlFeature, backbone: config.backbone as BackboneName,
    inputShape: [data.size, data.size, data.channels], width: config.backboneWidth, numClasses: data.classes.length,
    seed: ctx.seed, pairNorm: options.pairNorm as PairNorm, pretrainedWeights: initialBackboneWeights(ctx), // both of 'won' start from it
  });
  // Adam (lr 1e-3, betas 0.9/0.999, lost from the text of SPNDL Sec. 4.2 and restored from the same sentence in GNDL Sec. 4.2) unless the config says otherwise
  const optimizer = new TrainOptimizer(optimizerSpecFromConfig(config));
  return {
    parts: net.parts,
    optimizers: { model: optimizer },
    trainStep(batch, step) {
      const input = options.augment ? augmentBatch(batch, step.rng) : batch; // same op on target and reference
      let logits: tf.Tensor2D | undefined;
      const loss = optimizer.step(() => {
        const l = net.logits(input, true); // [B, K]
        logits = tf.keep(l);
        return crossEntropy(l, batch.labels);
      }, net.variables);
      if (input !== batch) tf.dispose([input.target, ...(input.neutral ? [input.neutral] : [])]);
      return { losses: { loss }, logits };
    },
    predict: (batch) => tf.tidy(() => net.logits(batch, false)),
    features: (batch) => tf.tidy(() => net.features(batch, false)),
  };
}

export const spndlMethod: Method = {
  name: 'spndl',
  paper: 'spndl',
  description: 'neutral-expression-disentangled features (target minus neutral reference, pair normalisation) with class-wise self-paced learning',
  options: {
    feature: { doc: "what the classifier reads: 'target' (baseline), 'ndf' (target − neutral reference), 'won' (E(x) − N(x), no neutral image)", default: 'ndf', oneOf: SPNDL_FEATURES },
    pairNorm: { doc: "'joint': target and reference share every BN's batch statistics (the paper); 'separate': each its own (ablation)", default: 'joint', oneOf: PAIR_NORMS },
    augment: { doc: 'training augmentation: with probability 1/2 a horizontal flip or Gaussian noise, the same op on both images of a pair (SPNDL Sec. 4.2; the probability 1/2 is our choice, after the Self-Cure Network code)', default: true },
  },
  variants: {
    ndf: { description: 'NDF with pair normalisation, no SPL (Table 4: NDF)', options: { feature: 'ndf' } },
    spndl: { description: 'NDF + self-paced learning (SPNDL)', spl: true, options: { feature: 'ndf' } },
    'spndl-won': { description: 'w/o neutral image: E(x) − N(x) + SPL', spl: true, options: { feature: 'won' } },
    'won-nospl': { description: 'w/o neutral image without SPL (Fig. 6)', options: { feature: 'won' } },
    'spndl-separate': { description: 'SPNDL with target and reference normalised separately (ablation)', spl: true, options: { feature: 'ndf', pairNorm: 'separate' } },
  },
  defaultVariant: 'spndl',
  inputs: (o) => (o.feature === 'ndf' ? { train: 'pair', test: 'pair' } : { train: 'target', test: 'target' }),
  prepare: (ctx) => prepareBackboneInit(ctx), // backboneInit: the user's file, the identity pretraining (our lite stand-in) or none
  stages: (ctx) => backboneInitStages(ctx),
  build: buildSpndl,
};
