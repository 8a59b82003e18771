/**
 * The training loop every method shares, for one fold: epochs over seeded
 * shuffled batches (targets, plus neutral references for paired methods),
 * learning-rate schedules for every optimiser, class-wise self-paced
 * selection at each pace start, test metrics after every epoch, a progress
 * line, and a checkpoint after every epoch. A fold started again after a
 * crash resumes from its checkpoint and ends with the same numbers as an
 * uninterrupted run: every random draw is a function of (seed, fold, epoch,
 * step), and the checkpoint holds weights, optimiser state and history.
 * Methods that opt in (Method.lrPlateau) hold out a validation split of the
 * training subjects and train under the halve-and-reload rule of
 * ./lr-plateau.ts; the best-validation weights sit beside the checkpoint.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import type { FerSet } from '../data/dataset';
import type { Batch, Method, MethodModel, RunConfig, StepContext, DataInfo } from './run-types';
import type { Progress } from '../core/progress';
import { chunks, disposeBatch, makeBatch, shuffledBatches } from './batches';
import { encodeCheckpoint, loadCheckpoint, readCheckpointState, restoreCheckpoint, saveCheckpoint } from './checkpoint';
import { writeFileAtomic } from '../core/atomic-write';
import { initialPlateauState, plateauStep, validateLrPlateau, validationSplit, type PlateauState } from './lr-plateau';
import { crossEntropyPerSample } from './losses';
import { accuracy, confusionMatrix } from './metrics';
import { rng } from '../data/random';
import { deriveSeed } from './rng';
import { PaceRecord, paceOfEpoch, selectedSamples, selectPerClass } from './spl';
import { mean } from '../analysis/stats';
import { yieldForGpu } from '../backend/gpu-yield';

export interface FoldSplit {
  fold: number;
  /** dataset indices */
  train: Int32Array;
  test: Int32Array;
}

/** One row per (fold, epoch): what results.csv holds. */
export interface EpochRow {
  fold: number;
  epoch: number;
  pace: number;
  lr: number;
  /** samples trained on this epoch (fewer than the fold's under SPL) */
  n_train: number;
  train_loss: number;
  /** training-mode accuracy over the epoch's batches (NaN when the method reports no logits) */
  train_acc: number;
  test_loss: number;
  test_acc: number;
  /** with the learning-rate rule (Method.lrPlateau) only: loss and accuracy on the validation subjects */
  val_loss?: number;
  val_acc?: number;
  /** with the rule only: the best-validation epoch so far (the last row's is the run's best-validation epoch) */
  best_epoch?: number;
  /** with the rule only: 1 when the rule fired after this epoch (rate scaled, best weights reloaded) */
  reloaded?: number;
  images_per_s: number;
  /** live tensors after the epoch (flat from epoch 2 on when nothing leaks) */
  tensors: number;
  [extraLoss: `loss_${string}`]: number;
}

export interface Prediction {
  fold: number;
  sample: number;
  subject: string;
  label: number;
  prediction: number;
  loss: number;
}

export interface FoldResult {
  fold: number;
  rows: EpochRow[];
  /** test predictions after the last epoch */
  predictions: Prediction[];
  confusion: number[][];
  spl: PaceRecord[];
}

/** The trainer's JSON state, stored in every checkpoint. */
interface FoldState {
  fold: number;
  configJson: string;
  /** epochs completed */
  epoch: number;
  rows: EpochRow[];
  spl: PaceRecord[];
  /** samples SPL selected for the current pace (null: all) */
  selected: number[] | null;
  predictions: Prediction[];
  /** the learning-rate rule's state (methods with lrPlateau only) */
  plateau?: PlateauState;
}

/** Where the best-validation weights of the learning-rate rule are kept, beside the fold's checkpoint. */
export const bestCheckpointFile = (checkpointFile: string) => checkpointFile.replace(/(\.ckpt)?$/, '.best.ckpt');

export interface TrainFoldOptions {
  method: Method;
  config: RunConfig;
  set: FerSet;
  split: FoldSplit;
  /** what method.prepare returned */
  prepared?: unknown;
  /** checkpoint file: resumed from when it exists, rewritten after every epoch */
  checkpointFile?: string;
  /** called after each epoch's checkpoint is written; throwing here stops the run (tests simulate a kill this way) */
  onEpoch?: (row: EpochRow) => void;
  /** copies of the checkpoint to keep, by epoch (written right after that epoch's checkpoint) */
  snapshots?: Record<number, string>;
  /** where progress goes (the caller's choice, e.g. a notebook's progress line); absent or null: nowhere */
  progress?: Progress | null;
  /** progress prefix, e.g. 'fold 2/5' */
  label?: string;
  /** return the trained model instead of disposing it */
  keepModel?: boolean;
}

export function dataInfo(set: FerSet): DataInfo {
  return { size: set.size, channels: set.channels, classes: set.classes, hasNeutral: set.neutral !== null };
}

/** Eval-mode predictions and per-sample losses for some samples. */
export async function evaluate(model: MethodModel, set: FerSet, samples: Int32Array, pairs: boolean, batchSize: number): Promise<{ predictions: Int32Array; losses: Float32Array }> {
  const predictions = new Int32Array(samples.length);
  const losses = new Float32Array(samples.length);
  let offset = 0;
  for (const idx of chunks(samples, batchSize)) {
    const batch = makeBatch(set, idx, pairs);
    const [pred, loss] = tf.tidy(() => {
      const logits = model.predict(batch);
      const l = model.perSampleLoss ? model.perSampleLoss(batch) : crossEntropyPerSample(logits, batch.labels);
      return [tf.argMax(logits, 1), l];
    });
    predictions.set(pred.dataSync() as Int32Array, offset);
    losses.set(loss.dataSync() as Float32Array, offset);
    offset += idx.length;
    tf.dispose([pred, loss]);
    disposeBatch(batch);
    await yieldForGpu();
  }
  return { predictions, losses };
}

/** One pass over an epoch's batches: sample-weighted loss sums and training accuracy counts. */
async function trainEpoch(model: MethodModel, set: FerSet, batches: Int32Array[], pairs: boolean, stepContext: (step: number) => StepContext,
  onStep: (step: number, meanLoss: number) => void) {
  const sums: Record<string, number> = {};
  let seen = 0, correct = 0, withLogits = 0;
  const t0 = Date.now();
  for (const [step, idx] of batches.entries()) {
    const batch: Batch = makeBatch(set, idx, pairs);
    const res = model.trainStep(batch, stepContext(step));
    for (const [k, t] of Object.entries(res.losses)) sums[k] = (sums[k] ?? 0) + t.dataSync()[0] * idx.length;
    if (res.logits) {
      const pred = tf.tidy(() => tf.argMax(res.logits!, 1));
      correct += Array.from(pred.dataSync()).filter((p, i) => p === set.labels[idx[i]]).length;
      withLogits += idx.length;
      pred.dispose();
    }
    seen += idx.length;
    tf.dispose([...Object.values(res.losses), ...(res.logits ? [res.logits] : [])]);
    disposeBatch(batch);
    onStep(step, sums.loss / seen);
    await yieldForGpu();
  }
  return { sums, seen, correct, withLogits, seconds: (Date.now() - t0) / 1000 };
}


/** Trains (or resumes, or just reloads) one fold. */
export async function trainFold(opts: TrainFoldOptions): Promise<FoldResult & { model?: MethodModel }> {
  const { method, config, set, split } = opts;
  const configJson = JSON.stringify(config);
  const numClasses = set.classes.length;
  const inputs = method.inputs(config.options);
  const file = opts.checkpointFile;
  const rule = method.lrPlateau?.(config) ?? null;
  if (rule) validateLrPlateau(rule, `method '${method.name}' lrPlateau`);
  // with the rule, the validation subjects are never trained on
  const { fit, validation } = rule
    ? validationSplit(set.subjects, split.train, rule.valShare, deriveSeed(config.seed, split.fold, 'lr-plateau'))
    : { fit: split.train, validation: null };
  const bestFile = file && rule ? bestCheckpointFile(file) : undefined;
  let state: FoldState = {
    fold: split.fold, configJson, epoch: 0, rows: [], spl: [], selected: null, predictions: [], ...(rule ? { plateau: initialPlateauState() } : {}),
  };
  if (file && fs.existsSync(file)) {
    const stored = readCheckpointState<FoldState>(file);
    if (stored.configJson !== configJson) throw new Error(`${file} was written by another configuration; remove it or use a new results folder`);
    if (stored.fold !== split.fold) throw new Error(`${file} holds fold ${stored.fold}, not fold ${split.fold}`);
    if (stored.epoch >= config.totalEpochs && !opts.keepModel) return finish(reviveState(stored));
  }

  const model = await method.build({
    config, options: config.options, data: dataInfo(set), fold: split.fold,
    seed: deriveSeed(config.seed, 'init', split.fold), prepared: opts.prepared, methodPrepares: !!method.prepare,
  });
  let completed = false;
  try {
    if (file && fs.existsSync(file)) state = reviveState(await loadCheckpoint<FoldState>(file, model.parts, model.optimizers));
    // the best-validation weights (bytes of a checkpoint), read back on resume
    let best: Buffer | null = null;
    if (rule && state.plateau!.bestEpoch > 0) {
      if (!bestFile || !fs.existsSync(bestFile)) throw new Error(`${file} needs its best-validation checkpoint ${bestFile}, which is missing; remove ${file} to train the fold again`);
      best = fs.readFileSync(bestFile);
    }
    const progress = opts.progress ?? null;
    const label = opts.label ? `${opts.label} · ` : '';
    const trainLabels = Int32Array.from(fit, (s) => set.labels[s]);
    const evalBatch = Math.max(config.batchSize, 64);

    for (let epoch = state.epoch + 1; epoch <= config.totalEpochs; epoch++) {
      const scheduled = config.paceEpochs.reduce((a, b) => a + b, 0);
      // runs without SPL may outlast the pace labels: their extra epochs count as the last pace
      const { pace, starts } = epoch <= scheduled ? paceOfEpoch(config.paceEpochs, epoch) : { pace: config.paceEpochs.length, starts: false };
      if (config.spl && starts) {
        // v-step (SPNDL Sec. 3.4): rank every training sample with the current model, eval mode (our choice)
        const rho = config.spl.rho[pace - 1];
        const { losses } = await evaluate(model, set, fit, inputs.train === 'pair', evalBatch);
        const sel = selectPerClass(losses, trainLabels, rho, numClasses);
        const record: PaceRecord = {
          pace, epoch, rho, samples: Array.from(fit), labels: Array.from(trainLabels),
          losses: Array.from(losses), selected: sel.selected, thresholds: sel.thresholds,
        };
        state.spl.push(record);
        state.selected = selectedSamples(record);
      }
      const samples = state.selected ? Int32Array.from(state.selected) : fit;
      for (const opt of Object.values(model.optimizers)) opt.setEpoch(epoch, state.plateau?.scale ?? 1);

      const shuffleSeed = deriveSeed(config.seed, split.fold, epoch, 'batches');
      const batches = model.batches
        ? model.batches(samples, Int32Array.from(samples, (s) => set.labels[s]), shuffleSeed, config.batchSize)
        : shuffledBatches(samples, shuffleSeed, config.batchSize);
      const { sums, seen, correct, withLogits, seconds } = await trainEpoch(model, set, batches, inputs.train === 'pair', (step) => {
        const seed = deriveSeed(config.seed, split.fold, epoch, step);
        return { epoch, totalEpochs: config.totalEpochs, pace, step, seed, rng: rng(seed, 'step') };
      }, (step, loss) => progress?.update(`${label}epoch ${epoch}/${config.totalEpochs} · step ${step + 1}/${batches.length} · loss ${loss.toFixed(4)}`));
      const test = await evaluate(model, set, split.test, inputs.test === 'pair', evalBatch);
      const testLabels = Array.from(split.test, (s) => set.labels[s]);
      const val = validation ? await evaluate(model, set, validation, inputs.test === 'pair', evalBatch) : null;
      const row: EpochRow = {
        fold: split.fold, epoch, pace, lr: Object.values(model.optimizers)[0]?.learningRate ?? NaN,
        n_train: seen, train_loss: sums.loss / seen, train_acc: withLogits ? correct / withLogits : NaN,
        test_loss: mean(test.losses), test_acc: accuracy(testLabels, test.predictions),
        ...(val ? { val_loss: mean(val.losses), val_acc: accuracy(Array.from(validation!, (s) => set.labels[s]), val.predictions) } : {}),
        images_per_s: seen * (inputs.train === 'pair' ? 2 : 1) / Math.max(seconds, 1e-3), tensors: tf.memory().numTensors,
      };
      for (const k of Object.keys(sums).filter((k) => k !== 'loss').sort()) row[`loss_${k}`] = sums[k] / seen;
      if (rule) {
        const step = plateauStep(rule, state.plateau!, epoch, row.train_loss, row.val_acc!);
        if (step.improved) {
          best = await encodeCheckpoint({ state: { epoch }, parts: model.parts, optimizers: model.optimizers });
          if (bestFile) writeFileAtomic(bestFile, best);
        }
        // weights and optimiser state of the best epoch; the scaled rate applies from the next epoch
        if (step.trigger) await restoreCheckpoint(best!, bestFile ?? 'the best-validation snapshot', model.parts, model.optimizers);
        state.plateau = step.state;
        row.best_epoch = step.state.bestEpoch;
        row.reloaded = step.trigger ? 1 : 0;
      }
      state.rows.push(row);
      state.epoch = epoch;
      state.predictions = Array.from(split.test, (sample, i) => ({
        fold: split.fold, sample, subject: set.subjects[sample], label: testLabels[i], prediction: test.predictions[i], loss: test.losses[i],
      }));
      if (file) await saveCheckpoint(file, { state, parts: model.parts, optimizers: model.optimizers });
      const snapshot = opts.snapshots?.[epoch];
      if (snapshot) {
        if (!file) throw new Error(`a snapshot of epoch ${epoch} (${snapshot}) needs a checkpoint file`);
        fs.copyFileSync(file, snapshot);
      }
      progress?.update(`${label}epoch ${epoch}/${config.totalEpochs} · loss ${row.train_loss.toFixed(4)} · train acc ${row.train_acc.toFixed(3)} · test acc ${row.test_acc.toFixed(3)} · ${row.images_per_s.toFixed(0)} img/s`);
      opts.onEpoch?.(row);
    }
    const last = state.rows[state.rows.length - 1];
    progress?.done(`${label}done: ${state.epoch} epochs · test acc ${last ? last.test_acc.toFixed(3) : 'n/a'}`);
    completed = true;
  } finally {
    // also on an exception (an interrupted cell): the weights must not outlive the fold
    if (!(completed && opts.keepModel)) disposeModel(model);
  }
  return opts.keepModel ? { ...finish(state), model } : finish(state);

  function finish(s: FoldState): FoldResult {
    const confusion = confusionMatrix(s.predictions.map((p) => p.label), s.predictions.map((p) => p.prediction), numClasses);
    return { fold: s.fold, rows: s.rows, predictions: s.predictions, confusion, spl: s.spl };
  }
}

/** JSON stores NaN (e.g. no training accuracy) as null: turn the rows' nulls back into NaN. */
export function reviveRows(rows: EpochRow[]): EpochRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? NaN : v])) as EpochRow);
}
const reviveState = (s: FoldState): FoldState => ({ ...s, rows: reviveRows(s.rows) });

/** Frees a model's weights and optimiser state. */
export function disposeModel(model: MethodModel): void {
  model.dispose?.();
  for (const opt of Object.values(model.optimizers)) opt.dispose();
  for (const part of Object.values(model.parts)) part.dispose();
}
