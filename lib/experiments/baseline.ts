/**
 * The plain baseline every paper compares against: a backbone on the target
 * image and a linear softmax classifier (SPNDL Sec. 4, GNDL Sec. 4.3),
 * trained with cross-entropy, with flip-or-noise augmentation. Variant 'spl' adds class-wise self-paced
 * learning (spndl Table 4, "Baseline + SPL").
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { BackboneName, backboneFeatures, buildBackbone, trainableVariables } from '../models/backbones';
import { loadPretrainedWeights } from '../models/pretrained';
import { augmentBatch } from '../train/batches';
import { crossEntropy } from '../train/losses';
import { linearClassifier } from '../models/heads';
import { TrainOptimizer } from '../train/optim';
import { backboneInitStages, initialBackboneWeights, prepareBackboneInit } from './id-pretrain';
import type { BuildContext, Method, MethodModel } from '../train/run-types';
import { optimizerSpecFromConfig } from './settings';

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
  const logitsOf = (x: tf.Tensor4D, training: boolean) => head.apply(backboneFeatures(backbone, x, training), { training }) as tf.Tensor2D;
  return {
    parts: { backbone: backbone.model, head },
    optimizers: { model: optimizer },
    trainStep(batch, step) {
      const input = ctx.options.augment ? augmentBatch(batch, step.rng).target : batch.target;
      let logits: tf.Tensor2D | undefined;
      const loss = optimizer.step(() => {
        const l = logitsOf(input, true); // [B, K]
        logits = tf.keep(l);
        return crossEntropy(l, batch.labels);
      }, variables);
      if (input !== batch.target) input.dispose();
      return { losses: { loss }, logits };
    },
    predict: (batch) => tf.tidy(() => logitsOf(batch.target, false)),
    features: (batch) => tf.tidy(() => ({ backbone: backboneFeatures(backbone, batch.target, false) })),
  };
}

export const baselineMethod: Method = {
  name: 'baseline',
  paper: 'baseline',
  description: 'backbone + linear softmax classifier on the target image, cross-entropy',
  options: {
    augment: { doc: 'training augmentation: with probability 1/2 a horizontal flip or Gaussian noise (SPNDL Sec. 4.2; the probability is our choice)', default: true },
  },
  variants: {
    plain: { description: 'cross-entropy on every training sample' },
    spl: { description: 'class-wise self-paced learning (spndl Table 4: Baseline + SPL)', spl: true },
  },
  defaultVariant: 'plain',
  inputs: () => ({ train: 'target', test: 'target' }),
  prepare: (ctx) => prepareBackboneInit(ctx),
  stages: (ctx) => backboneInitStages(ctx),
  build: buildBaseline,
};

/** Stage method: the baseline network on identity labels (the identity manifest's `label`). */
export const idPretrainMethod: Method = {
  name: 'id-pretrain',
  paper: 'baseline',
  description: 'identity pretraining of the lite backbone (our stand-in for a face-recognition start): backbone + linear classifier over synthetic identities, cross-entropy; test accuracy = closed-set identity accuracy on held-out images',
  options: {
    augment: { doc: 'training augmentation: with probability 1/2 a horizontal flip or Gaussian noise (as the baseline)', default: true },
  },
  variants: { default: { description: 'identity classification on the identity database' } },
  defaultVariant: 'default',
  inputs: () => ({ train: 'target', test: 'target' }),
  // the baseline's network; its backboneForRun starts from the seed (the stage's backboneInit is 'scratch')
  build: buildBaseline,
};
