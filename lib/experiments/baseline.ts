/**
 * The plain baseline every paper compares against: a backbone on the target
 * image and a linear softmax classifier (spndl spec 2.6, gndl spec 3.1),
 * trained with cross-entropy, with flip-or-noise augmentation. Variant 'spl' adds class-wise self-paced
 * learning (spndl Table 4, "Baseline + SPL"). Variant 'oracle-ndf' reads the same backbone's features of
 * the target minus those of the true neutral frame (the NDF of SPNDL Eq. 3, through lib/models/paired.ts):
 * the premise every paper builds on, measured without any paper's own machinery (notebook 01's calibration).
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { BackboneName, backboneFeatures, buildBackbone, trainableVariables } from '../models/backbones';
import { pairedNdf } from '../models/paired';
import { loadPretrainedWeights } from '../models/pretrained';
import { augmentBatch } from '../train/batches';
import { crossEntropy } from '../train/losses';
import { TrainOptimizer } from '../train/optim';
import { initialBackboneWeights, prepareBackboneInit } from './id-pretrain';
import type { Batch, BuildContext, Method, MethodModel } from './method';
import { optimizerSpecFromConfig } from './settings';

/** A linear classifier [B, D] -> [B, K], seeded. */
export function linearClassifier(inputDim: number, numClasses: number, seed: number, name = 'classifier'): tf.LayersModel {
  const input = tf.input({ shape: [inputDim], name: `${name}.input` });
  const logits = tf.layers.dense({
    name: `${name}.fc`, units: numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed }),
  }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name });
}

/**
 * Builds the configured backbone for a run, starting from the weights its
 * backboneInit names (the user's pretrainedWeights file or the identity
 * pretraining, which the method's prepare resolves: prepareBackboneInit).
 */
export function backboneForRun(ctx: BuildContext, opts: { seed?: number; prefix?: string } = {}) {
  const { config, data } = ctx;
  const backbone = buildBackbone(config.backbone as BackboneName, {
    inputShape: [data.size, data.size, data.channels], width: config.backboneWidth, seed: opts.seed ?? ctx.seed, prefix: opts.prefix,
  });
  const weights = initialBackboneWeights(ctx);
  if (weights) loadPretrainedWeights(backbone.model, weights, { prefix: opts.prefix });
  return backbone;
}

function buildBaseline(ctx: BuildContext): MethodModel {
  const backbone = backboneForRun(ctx);
  const head = linearClassifier(backbone.featureDim, ctx.data.classes.length, ctx.seed + 1);
  const optimizer = new TrainOptimizer(optimizerSpecFromConfig(ctx.config));
  const variables = trainableVariables(backbone.model, head);
  const ndf = ctx.options.input === 'oracle-ndf';
  const featuresOf = (b: Pick<Batch, 'target' | 'neutral'>, training: boolean) => ndf
    ? pairedNdf(backbone, b.target, b.neutral!, training).ndf // [B, D]
    : backboneFeatures(backbone, b.target, training);
  const logitsOf = (b: Pick<Batch, 'target' | 'neutral'>, training: boolean) => head.apply(featuresOf(b, training), { training }) as tf.Tensor2D;
  return {
    parts: { backbone: backbone.model, head },
    optimizers: { model: optimizer },
    trainStep(batch, step) {
      const input = ctx.options.augment ? augmentBatch(batch, step.rng) : batch; // same op on target and neutral
      let logits: tf.Tensor2D | undefined;
      const loss = optimizer.step(() => {
        const l = logitsOf(input, true); // [B, K]
        logits = tf.keep(l);
        return crossEntropy(l, batch.labels);
      }, variables);
      if (input !== batch) tf.dispose([input.target, ...(input.neutral ? [input.neutral] : [])]);
      return { losses: { loss }, logits };
    },
    predict: (batch) => tf.tidy(() => logitsOf(batch, false)),
    features: (batch) => tf.tidy(() => ({ [ndf ? 'ndf' : 'backbone']: featuresOf(batch, false) })),
  };
}

export const baselineMethod: Method = {
  name: 'baseline',
  paper: 'baseline',
  description: 'backbone + linear softmax classifier on the target image, cross-entropy',
  options: {
    augment: { doc: 'training augmentation: with probability 1/2 a horizontal flip or Gaussian noise, alike on both images of a pair', default: true },
    input: { doc: "what the classifier reads: 'target' (the target's features) or 'oracle-ndf' (target minus true neutral frame)", default: 'target', oneOf: ['target', 'oracle-ndf'] },
  },
  variants: {
    plain: { description: 'cross-entropy on every training sample' },
    spl: { description: 'class-wise self-paced learning (spndl Table 4: Baseline + SPL)', spl: true },
    'oracle-ndf': { description: 'features of the target minus those of its true neutral frame (one backbone, joint BN)', options: { input: 'oracle-ndf' } },
  },
  defaultVariant: 'plain',
  inputs: (o) => (o.input === 'oracle-ndf' ? { train: 'pair', test: 'pair' } : { train: 'target', test: 'target' }),
  prepare: (ctx) => prepareBackboneInit(ctx), // called late: id-pretrain.ts imports this module
  build: buildBaseline,
};
