/**
 * The run types the trainer, the results store and the experiments share:
 * what a paper adds to the shared machinery (a Method) and the resolved
 * settings of a run (RunConfig). They are the trainer's contract, so they
 * live in lib/train, below the experiments that implement them. The runner loads the data, makes the folds and runs the
 * trainer; a method only builds its model parts and optimisers and says
 * what one training step does.
 *
 * How the four papers fit:
 * - SPNDL: inputs { train: 'pair', test: 'pair' }; trainStep concatenates
 *   target and neutral into one batch (joint BN) and subtracts the features;
 *   the SPL variants set `spl: true` and the trainer does the selection
 *   through predict/perSampleLoss.
 * - GNDL: inputs { train: 'pair', test: 'target' }; a part 'nfg' and a
 *   reconstruction loss reported as losses.neu beside losses.loss.
 * - IDFERM: `prepare` trains (or loads, via ctx.runDependency) the HNG
 *   run once and returns the generated references; trainStep gathers them
 *   by batch.samples; a class-balanced `batches` sampler; several optimisers.
 * - DDL: `prepare` runs the DFEM pretraining as its own cached run; two
 *   optimisers ('model', 'disc') stepped alternately inside trainStep.
 * @see notebooks/02-spndl.ipynb
 */
import type * as tf from '@tensorflow/tfjs';
import type { Config, RunSettings } from '../config';
import type { Rng } from '../data/random';
import type { LrPlateau } from './lr-plateau';
import type { TrainOptimizer } from './optim';

export type OptionValue = number | string | boolean;

/** Shape facts about the data a model is built for. */
export interface DataInfo {
  size: number;
  channels: 1 | 3;
  classes: string[];
  hasNeutral: boolean;
}

/** The fully resolved settings of a run: stored as config.json, hashed into the run id. */
export interface RunConfig extends RunSettings {
  method: string;
  variant: string;
  /** the method's options: defaults, then the variant's, then the caller's */
  options: Record<string, OptionValue>;
  /** epochs per fold actually trained (the SPL schedule's total for SPL variants) */
  totalEpochs: number;
  /** self-paced learning schedule, null when the variant does not use SPL */
  spl: { rho: number[]; paceEpochs: number[] } | null;
  /** pace lengths used to label epochs (equal to spl.paceEpochs for SPL runs) so runs without SPL can be compared at the same pace boundaries */
  paceEpochs: number[];
  /** the data the run trained on (added by the runner, part of the run's hash) */
  data?: { name: string; samples: number; size: number; channels: number; classes: string[]; fingerprint: string };
}

export interface BuildContext {
  config: RunConfig;
  options: Record<string, OptionValue>;
  data: DataInfo;
  fold: number;
  /** seed for weight initialisation (derived from the run seed and fold) */
  seed: number;
  /** what `prepare` returned (shared by every fold) */
  prepared: unknown;
  /**
   * whether the run's method has a `prepare` (the trainer and loadFoldModel set it from the method itself):
   * a builder that needs what prepare returns tells a build outside a run from a method that never prepares
   */
  methodPrepares?: boolean;
}

export interface Batch {
  /** [B, H, W, C] in [0, 1] */
  target: tf.Tensor4D;
  /** [B, H, W, C]: each target's neutral reference, when the method asks for pairs */
  neutral: tf.Tensor4D | null;
  /** [B] int32 class indices */
  labels: tf.Tensor1D;
  /** dataset indices of the samples (to look up side data such as generated references) */
  samples: Int32Array;
}

export interface StepContext {
  /** 1-based */
  epoch: number;
  totalEpochs: number;
  /** 1-based SPL pace (or pace label for runs without SPL) */
  pace: number;
  /** 0-based step within the epoch */
  step: number;
  /** seed for this step's random draws (augmentation, dropout, noise) */
  seed: number;
  /** seeded generator for this step */
  rng: Rng;
}

export interface StepResult {
  /** scalar losses for the log; `loss` (the total) is required, others become loss_<name> columns */
  losses: { loss: tf.Scalar } & Record<string, tf.Scalar>;
  /** training-mode logits, when the step has them (for the training accuracy) */
  logits?: tf.Tensor2D;
}

export interface MethodModel {
  /** every model holding weights, by name: all are checkpointed (trainable and moving statistics) */
  parts: Record<string, tf.LayersModel>;
  /** every optimiser, by name: the trainer applies learning-rate schedules and checkpoints them */
  optimizers: Record<string, TrainOptimizer>;
  /** one training step on a batch: updates weights, returns tensors the trainer reads and disposes */
  trainStep(batch: Batch, ctx: StepContext): StepResult;
  /** logits [B, K] in eval mode (also used for SPL losses and test metrics) */
  predict(batch: Batch): tf.Tensor2D;
  /** per-sample loss [B] in eval mode for SPL; defaults to the cross-entropy of predict */
  perSampleLoss?(batch: Batch): tf.Tensor1D;
  /** named feature vectors [B, D] in eval mode (t-SNE, linear probes) */
  features?(batch: Batch): Record<string, tf.Tensor2D>;
  /** an epoch's batches of dataset indices; defaults to a seeded shuffle cut into batchSize chunks */
  batches?(samples: Int32Array, labels: Int32Array, seed: number, batchSize: number): Int32Array[];
  dispose?(): void;
}

export interface OptionSpec {
  doc: string;
  default: OptionValue;
  oneOf?: readonly OptionValue[];
}

export interface VariantSpec {
  description: string;
  /** train with class-wise self-paced learning */
  spl?: boolean;
  /** option values this variant sets */
  options?: Record<string, OptionValue>;
}

/** A run another run starts from (a pretraining stage): method, variant, options and settings beside the requester's. */
export type DependencyRequest = Partial<RunConfig> & { method: string };

/**
 * A stage a run's `prepare` fetches: a run (trained through ctx.runDependency) or an IDFERM generator
 * (lib/experiments/idferm-hng/stage.ts hngStage, not a run: it trains in one process). A plan trains
 * them before the runs.
 */
export type StageRequest =
  | { kind: 'run'; request: DependencyRequest }
  | { kind: 'hng'; config: Config; variant: string };

export interface PrepareContext {
  config: RunConfig;
  data: DataInfo;
  /** runs (or reuses the stored result of) another experiment, e.g. a pretraining stage */
  runDependency(config: DependencyRequest): Promise<{ runDir: string; runId: string }>;
  /**
   * true in a plan's task: every stage must be stored already (the plan's stage jobs made them), and one
   * that is not is an error rather than trained, so that many tasks never train the same stage at once
   */
  stagesStored: boolean;
}

export interface Method {
  name: string;
  /** paper the method belongs to ('baseline' for the shared baseline) */
  paper: string;
  description: string;
  options: Record<string, OptionSpec>;
  variants: Record<string, VariantSpec>;
  defaultVariant: string;
  /** which images batches carry in training and at test time */
  inputs(options: Record<string, OptionValue>): { train: 'target' | 'pair'; test: 'target' | 'pair' };
  /** once per run, before the folds: train or load what every fold shares */
  prepare?(ctx: PrepareContext): Promise<unknown>;
  /** the stages `prepare` fetches, computed by the same functions and without training (plans list them) */
  stages?(ctx: Pick<PrepareContext, 'config' | 'data'>): Promise<StageRequest[]>;
  build(ctx: BuildContext): MethodModel | Promise<MethodModel>;
  /** the halve-and-reload learning-rate rule to train with (lib/train/lr-plateau.ts); absent or null: none */
  lrPlateau?(config: RunConfig): LrPlateau | null;
}
