/**
 * GNDL as a Method (Wu et al., ACM MM 2023, §3 and §4.2): training on (examined,
 * neutral) pairs of the same subject through one backbone with joint BN,
 * the NFG predicting the neutral features from the examined ones, L_neu
 * pulling the prediction toward the real neutral features, and a linear
 * classifier on V = F_exam − NFG(F_exam); at test only the examined image.
 * Total loss L_cls + λ·L_neu (Eq. 11, λ = 5), one Adam over every part.
 * L_neu is a mean over the feature dimensions, not the sum Eq. 8 prints, so
 * λ = 5 here weighs the mean absolute error per dimension (neutralLoss in
 * ../models/gndl.ts says what that is under the sum reading).
 *
 * The variants are the paper's model, its baseline and our ablations
 * (λ = 0, no NFG, no subtraction, separate BN, no neutral images in
 * the training batch, real-neutral oracle,
 * teacher forcing, stop-gradients, and the λ sweep of Fig. 7).
 * @see notebooks/03-gndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { backboneFeatures, trainableVariables } from '../models/backbones';
import { buildNfg, deviation, neutralLoss, NeuLossForm, NeuReduction, stopGradient } from '../models/gndl';
import { neutralDisentangled, pairedForward } from '../models/paired';
import { augmentBatch } from '../train/batches';
import { crossEntropy } from '../train/losses';
import { TrainOptimizer } from '../train/optim';
import { backboneForRun } from './baseline';
import { linearClassifier } from '../models/heads';
import { backboneInitStages, prepareBackboneInit } from './id-pretrain';
import type { Batch, BuildContext, Method, MethodModel, OptionValue, VariantSpec } from '../train/run-types';
import { optimizerSpecFromConfig } from './settings';

/** What the classifier sees: V_gen = F − NFG(F), V_real = F − F_neu (needs the neutral), or F itself. */
export type SubtractMode = 'generated' | 'real' | 'none';

/** The λ values of the sensitivity sweep (Fig. 7) that have their own variant, 'gndl-lambda<λ>'. */
export const GNDL_SWEEP_LAMBDAS = [0, 0.1, 0.5, 1, 2, 5, 10, 20, 100] as const;

/** The variant name of GNDL with weight λ (λ = 5 is the paper's model, 'gndl'). */
export const gndlVariantFor = (lambda: number) => (lambda === 5 ? 'gndl' : `gndl-lambda${lambda}`);

export interface GndlOptions {
  pairs: 'joint' | 'separate' | 'exam-only' | 'none';
  nfg: boolean;
  lambda: number;
  trainSubtract: SubtractMode;
  testSubtract: SubtractMode;
  neuLoss: NeuLossForm;
  neuReduction: NeuReduction;
  neuTargetStopGrad: boolean;
  nfgInputStopGrad: boolean;
  nfgSlope: number;
  nfgDecoderLayers: number;
  nfgOutAct: 'none' | 'leaky';
  nfgUpsample: 'nearest' | 'dense';
  augment: boolean;
  augmentNoneProb: number;
  augmentNoise: number;
}

/** Checks option combinations that cannot work, naming the options. */
export function checkGndlOptions(o: GndlOptions): void {
  const bad = (msg: string) => { throw new Error(`gndl options: ${msg}`); };
  if (o.pairs === 'none' && (o.lambda > 0 || o.trainSubtract === 'real' || o.testSubtract === 'real')) bad(`pairs='none' (no neutral images) needs lambda=0 and no 'real' subtraction`);
  if (!o.nfg && (o.trainSubtract === 'generated' || o.testSubtract === 'generated' || o.lambda > 0)) bad('nfg=false needs lambda=0 and no \'generated\' subtraction');
  if (!(o.lambda >= 0)) bad(`lambda ${o.lambda} must be ≥ 0`);
}

function gndlOptions(raw: Record<string, OptionValue>): GndlOptions {
  const o = raw as unknown as GndlOptions;
  checkGndlOptions(o);
  return o;
}

function buildGndl(ctx: BuildContext): MethodModel {
  const o = gndlOptions(ctx.options);
  const backbone = backboneForRun(ctx);
  const d = backbone.featureDim;
  const nfg = o.nfg ? buildNfg({
    inputDim: d, slope: o.nfgSlope, decoderLayers: o.nfgDecoderLayers, outAct: o.nfgOutAct, upsample: o.nfgUpsample, seed: ctx.seed + 2,
  }) : null;
  const head = linearClassifier(d, ctx.data.classes.length, ctx.seed + 1);
  const optimizer = new TrainOptimizer(optimizerSpecFromConfig(ctx.config));
  const variables = trainableVariables(...[backbone.model, ...(nfg ? [nfg] : []), head]);
  const forward = (x: tf.Tensor4D, training: boolean) => backboneFeatures(backbone, x, training);
  const generate = (f: tf.Tensor2D, training: boolean) => nfg!.apply(f, { training }) as tf.Tensor2D;
  /** the classifier's input for a given subtraction */
  const classifierInput = (mode: SubtractMode, exam: tf.Tensor2D, neu: tf.Tensor2D | null, training: boolean) => {
    if (mode === 'none') return exam;
    if (mode === 'real') {
      if (!neu) throw new Error('gndl: the real-neutral subtraction needs the neutral image in the batch');
      return neutralDisentangled(exam, neu);
    }
    return deviation(exam, generate(exam, training));
  };
  const needsNeutralAtTest = o.testSubtract === 'real';
  const evalNeutral = (batch: Batch) => (batch.neutral ? forward(batch.neutral, false) : null);

  return {
    parts: { backbone: backbone.model, ...(nfg ? { nfg } : {}), head },
    optimizers: { model: optimizer },
    trainStep(batch, step) {
      const aug = o.augment ? augmentBatch(batch, step.rng, { pNone: o.augmentNoneProb, noiseStd: o.augmentNoise, pairNoise: 'shared' }) : batch;
      const parts: Record<string, tf.Scalar> = {};
      let logits: tf.Tensor2D | undefined;
      const loss = optimizer.step(() => {
        // joint BN (Eqs. 4–6) or separate forwards: lib/models/paired.ts, shared with SPNDL
        const paired = o.pairs === 'joint' || o.pairs === 'separate' ? pairedForward(backbone, aug.target, aug.neutral!, true, { pairNorm: o.pairs }) : null;
        const exam = paired ? paired.target : forward(aug.target, true);
        // 'exam-only': the neutral faces stay out of the training batch (and its BN statistics);
        // their features, the L_neu targets, come from an inference-mode forward with no gradient
        const neu = paired ? paired.reference : o.pairs === 'exam-only' ? stopGradient(forward(aug.neutral!, false)) : null;
        const l = head.apply(classifierInput(o.trainSubtract, exam, neu, true), { training: true }) as tf.Tensor2D; // [B, K]
        logits = tf.keep(l);
        const cls = crossEntropy(l, batch.labels);
        parts.cls = tf.keep(cls.clone());
        if (!nfg || !neu) return cls;
        const input = o.nfgInputStopGrad ? stopGradient(exam) : exam;
        const target = o.neuTargetStopGrad ? stopGradient(neu) : neu;
        const neuLoss = neutralLoss(generate(input, true), target, o.neuLoss, o.neuReduction);
        parts.neu = tf.keep(neuLoss.clone());
        return tf.add(cls, tf.mul(o.lambda, neuLoss)) as tf.Scalar;
      }, variables);
      if (aug !== batch) tf.dispose([aug.target, ...(aug.neutral ? [aug.neutral] : [])]);
      return { losses: { loss, ...parts }, logits };
    },
    predict: (batch) => tf.tidy(() => {
      const exam = forward(batch.target, false);
      const neu = needsNeutralAtTest ? evalNeutral(batch) : null;
      return head.apply(classifierInput(o.testSubtract, exam, neu, false), { training: false }) as tf.Tensor2D;
    }),
    /** eval-mode vectors: exam (F_exam); with the NFG: generated, v_gen; with a neutral in the batch: neutral, v_real */
    features: (batch) => tf.tidy(() => {
      const exam = forward(batch.target, false);
      const out: Record<string, tf.Tensor2D> = { exam };
      if (nfg) {
        out.generated = generate(exam, false);
        out.v_gen = deviation(exam, out.generated);
      }
      const neu = evalNeutral(batch);
      if (neu) {
        out.neutral = neu;
        out.v_real = neutralDisentangled(exam, neu);
      }
      return out;
    }),
  };
}

const BASE: Record<string, OptionValue> = { pairs: 'joint', nfg: true, lambda: 5, trainSubtract: 'generated', testSubtract: 'generated' };

const sweepVariants: Record<string, VariantSpec> = Object.fromEntries(GNDL_SWEEP_LAMBDAS.filter((l) => l !== 5).map((lambda) => [
  gndlVariantFor(lambda),
  { description: lambda === 0
    ? 'GNDL without the reconstruction loss (λ = 0): the NFG is an unsupervised residual MLP; neutral faces only shape the joint BN (our ablation)'
    : `GNDL with λ = ${lambda} (λ sensitivity, Fig. 7)`, options: { ...BASE, lambda } },
]));

export const gndlMethod: Method = {
  name: 'gndl',
  paper: 'gndl',
  description: 'GNDL: backbone (joint BN over examined+neutral pairs) + NFG; classifier on F − NFG(F); L_cls + λ·L1(NFG(F), F_neu)',
  options: {
    pairs: { doc: "how neutral images enter training: 'joint' one forward with shared BN statistics (Eqs. 4–6), 'separate' two forwards, 'exam-only' only examined images in the training batch and the L_neu targets from an inference-mode, stop-gradient forward of the neutral images, 'none' no neutral images at all", default: 'joint', oneOf: ['joint', 'separate', 'exam-only', 'none'] },
    nfg: { doc: 'build the Neutral Feature Generator', default: true },
    lambda: {
      doc: 'weight λ of the neutral-feature loss L_neu (Eq. 11; paper: 5), on the mean per-dimension L1 error by default (neuReduction)',
      default: 5,
    },
    trainSubtract: { doc: "classifier input in training: 'generated' F − NFG(F) (Eq. 7), 'real' F − F_neu (teacher forcing), 'none' F", default: 'generated', oneOf: ['generated', 'real', 'none'] },
    testSubtract: { doc: "classifier input at test: 'generated' (no neutral needed), 'real' (oracle, needs the neutral), 'none'", default: 'generated', oneOf: ['generated', 'real', 'none'] },
    neuLoss: { doc: 'distance of L_neu: l1 (paper) or l2', default: 'l1', oneOf: ['l1', 'l2'] },
    neuReduction: { doc: "reduction of L_neu: 'mean' over batch×dims (our choice: only this scale fits λ = 5 and Fig. 7's range, though Eq. 8 prints a sum), 'sum-over-dims', 'sum'", default: 'mean', oneOf: ['mean', 'sum-over-dims', 'sum'] },
    neuTargetStopGrad: { doc: 'stop the L_neu gradient into the backbone through the real neutral features', default: false },
    nfgInputStopGrad: { doc: 'stop the L_neu gradient into the backbone through the NFG input', default: false },
    nfgSlope: { doc: 'LeakyReLU slope α of the NFG (our choice: 0.2; GNDL Sec. 3.3 gives none)', default: 0.2 },
    nfgDecoderLayers: { doc: 'Dense layers after the ×2 upsampling', default: 2, oneOf: [1, 2, 3] },
    nfgOutAct: { doc: 'NFG output activation', default: 'none', oneOf: ['none', 'leaky'] },
    nfgUpsample: { doc: "'nearest' NN×2 (paper) or a learned 'dense' layer (equivalence check)", default: 'nearest', oneOf: ['nearest', 'dense'] },
    augment: { doc: 'flip or Gaussian noise, the same op on both images of a pair (GNDL Sec. 4.2)', default: true },
    augmentNoneProb: { doc: 'chance a pair is left as it is (our choice: 1/3; the paper gives no probabilities)', default: 1 / 3 },
    augmentNoise: { doc: 'Gaussian noise std on [0, 1] pixels (our choice: 0.03; the paper gives none)', default: 0.03 },
  },
  variants: {
    gndl: { description: 'GNDL as in the paper: λ = 5, joint BN, classifier on F − NFG(F) in training and test', options: { ...BASE } },
    ...sweepVariants,
    'no-nfg': { description: 'without the NFG: pairs through the joint BN, classifier on F (neutral faces only shape the BN statistics)', options: { ...BASE, nfg: false, lambda: 0, trainSubtract: 'none', testSubtract: 'none' } },
    'aux-no-subtract': { description: 'NFG and L_neu kept as an auxiliary task, the classifier sees F (isolates the subtraction)', options: { ...BASE, trainSubtract: 'none', testSubtract: 'none' } },
    'no-neutral-in-batch': { description: 'only examined images in the training batch (BN statistics from them alone); L_neu targets from an inference-mode forward of the neutral images with stop-gradient (our ablation: BN shaping vs NFG supervision)', options: { ...BASE, pairs: 'exam-only' } },
    'no-pair-bn': { description: 'examined and neutral images in separate forwards, each with its own BN statistics (isolates Eqs. 4–6)', options: { ...BASE, pairs: 'separate' } },
    'teacher-forcing': { description: 'classifier trained on F − F_neu, NFG trained by L_neu only; test on F − NFG(F) (the other reading of GNDL Sec. 3.1)', options: { ...BASE, trainSubtract: 'real' } },
    'stopgrad-target': { description: 'GNDL with a stop-gradient on the real neutral features in L_neu (our switch; the paper trains everything end to end, Sec. 3.4)', options: { ...BASE, neuTargetStopGrad: true } },
  },
  defaultVariant: 'gndl',
  inputs: (options) => ({
    train: options.pairs === 'none' ? 'target' : 'pair',
    test: options.testSubtract === 'real' ? 'pair' : 'target',
  }),
  prepare: (ctx) => prepareBackboneInit(ctx), // backboneInit: the user's file, the identity pretraining or none
  stages: (ctx) => backboneInitStages(ctx),
  build: buildGndl,
};
