import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig, runSettings } from '../lib/config';
import { baselineMethod } from '../lib/experiments/baseline';
import { linearClassifier } from '../lib/models/heads';
import type { Method } from '../lib/train/run-types';
import { resolveRunConfig } from '../lib/experiments/settings';
import { loadCheckpoint } from '../lib/train/checkpoint';
import { crossEntropy } from '../lib/train/losses';
import { type LrPlateau, bestValidationRows, initialPlateauState, plateauStep, validationSplit } from '../lib/train/lr-plateau';
import { TrainOptimizer } from '../lib/train/optim';
import { bestCheckpointFile, EpochRow, FoldResult, trainFold } from '../lib/train/trainer';
import { tinySet } from './tiny-set';

before(async () => { await initBackend(); });

const set = tinySet({ subjects: 8 });
const isTest = (s: string) => s === 'S0' || s === 'S1';
const split = {
  fold: 0,
  train: Int32Array.from(set.subjects.flatMap((s, i) => (isTest(s) ? [] : [i]))),
  test: Int32Array.from(set.subjects.flatMap((s, i) => (isTest(s) ? [i] : []))),
};
const config = (epochs: number) => resolveRunConfig(loadConfig({ FER_PROFILE: 'smoke' }, { epochs, batchSize: 8 }), baselineMethod, 'plain');
const rule = (r: Partial<LrPlateau> = {}): LrPlateau => ({ valShare: 0.2, patience: 10, rise: 0.25, factor: 0.5, ...r });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fer-plateau-'));
const numbers = (r: FoldResult) => ({ rows: r.rows.map(({ images_per_s: _s, tensors: _t, ...rest }: EpochRow) => rest), predictions: r.predictions });
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

/**
 * A method whose reported training loss and validation accuracy follow a
 * script per epoch (so the rule's triggers are known), while its one dense
 * layer really trains (so reloads are visible in the weights).
 */
function scripted(losses: number[], valAcc: number[], r: LrPlateau) {
  const seen: number[] = [];
  const snapshots: number[][][] = []; // weights at the end of each epoch's training, before the rule acts
  let model: tf.LayersModel | null = null;
  let epoch = 0;
  const method: Method = {
    ...baselineMethod, name: 'scripted', options: {}, variants: { plain: { description: 'scripted' } },
    lrPlateau: () => r,
    build(ctx) {
      const pixels = ctx.data.size * ctx.data.size;
      const head = linearClassifier(pixels, ctx.data.classes.length, ctx.seed);
      model = head;
      const opt = new TrainOptimizer({ kind: 'momentum', learningRate: 0.1, momentum: 0.9 });
      const logits = (x: tf.Tensor4D) => head.apply(tf.reshape(x, [x.shape[0], pixels])) as tf.Tensor2D;
      return {
        parts: { head }, optimizers: { model: opt },
        batches: (samples) => [samples],
        trainStep(b, step) {
          epoch = step.epoch;
          seen.push(...b.samples);
          tf.dispose(opt.step(() => crossEntropy(logits(b.target), b.labels), head.trainableWeights.map((w) => w.read() as tf.Variable)));
          snapshots[step.epoch] = weightsOf(head);
          return { losses: { loss: tf.scalar(losses[step.epoch - 1]) } };
        },
        // validation samples: the first valAcc share of the batch is right; test samples: all right
        predict: (b) => tf.tidy(() => {
          const labels = Array.from(b.labels.dataSync());
          const valid = Array.from(b.samples).some((s) => !isTest(set.subjects[s]));
          const right = valid ? Math.round(valAcc[epoch - 1] * labels.length) : labels.length;
          return tf.oneHot(labels.map((l, i) => (i < right ? l : (l + 1) % 3)), 3).toFloat() as tf.Tensor2D;
        }),
      };
    },
  };
  return { method, seen, snapshots, model: () => model! };
}

test('validation subjects: seeded, at least one, disjoint by subject from the training ones; one subject is an error', () => {
  const a = validationSplit(set.subjects, split.train, 0.2, 7);
  const subj = (idx: Int32Array) => new Set(Array.from(idx, (s) => set.subjects[s]));
  assert.equal(subj(a.validation).size, 1); // round(6 x 0.2)
  assert.ok([...subj(a.validation)].every((s) => !subj(a.fit).has(s)));
  assert.deepEqual([...a.fit, ...a.validation].sort((x, y) => x - y), Array.from(split.train));
  assert.deepEqual(validationSplit(set.subjects, split.train, 0.2, 7), a);
  const one = Int32Array.from(set.subjects.flatMap((s, i) => (s === 'S3' ? [i] : [])));
  assert.throws(() => validationSplit(set.subjects, one, 0.1, 7), /at least 2 training subjects.*has 1/);
});

test('the rule fires on a loss rise of more than 25 % or after `patience` epochs without a validation gain', () => {
  const r = rule({ patience: 2 });
  let s = plateauStep(r, initialPlateauState(), 1, 1, 0.5).state;
  const flat = plateauStep(r, s, 2, 1.25, 0.4); // +25 % exactly: no rise trigger
  assert.equal(flat.trigger, null);
  const rise = plateauStep(r, s, 2, 1.26, 0.6);
  assert.equal(rise.trigger, 'rise');
  assert.equal(rise.state.scale, 0.5);
  assert.equal(rise.state.lastTrainLoss, 1.26, 'improved in the same epoch: the new best is the reference');
  s = flat.state;
  const patience = plateauStep(r, s, 3, 1.2, 0.5); // no gain on 0.5 for 2 epochs
  assert.equal(patience.trigger, 'patience');
  assert.deepEqual({ ...patience.state }, { bestEpoch: 1, bestValAcc: 0.5, bestTrainLoss: 1, scale: 0.5, sinceBest: 0, lastTrainLoss: 1 });
});

test('a training-loss rise halves the rate and reloads the best-validation weights (kept beside the checkpoint)', async () => {
  const run = scripted([1, 0.9, 1.2, 0.8], [0.5, 1, 1 / 3, 1 / 3], rule());
  const dir = tmp(), file = path.join(dir, 'fold-0.ckpt');
  const after: number[][][] = [];
  const r = await trainFold({ method: run.method, config: config(4), set, split, progress: null, checkpointFile: file, keepModel: true, onEpoch: () => after.push(weightsOf(run.model())) });
  assert.deepEqual(r.rows.map((row) => row.lr), [0.1, 0.1, 0.1, 0.05]);
  assert.deepEqual(r.rows.map((row) => row.reloaded), [0, 0, 1, 0]);
  assert.deepEqual(r.rows.map((row) => row.best_epoch), [1, 2, 2, 2]);
  assert.deepEqual(r.rows.map((row) => row.val_acc), [3 / 6, 6 / 6, 2 / 6, 2 / 6]); // one validation subject: 6 samples
  assert.deepEqual(after[2], run.snapshots[2], 'after epoch 3 the weights are epoch 2\'s again');
  assert.notDeepEqual(run.snapshots[3], run.snapshots[2]);
  // the best file holds epoch 2's weights
  const head = linearClassifier(set.size * set.size, 3, 99);
  await loadCheckpoint(bestCheckpointFile(file), { head }, {});
  assert.deepEqual(weightsOf(head), run.snapshots[2]);
  head.dispose();
  r.model!.parts.head.dispose();
  Object.values(r.model!.optimizers).forEach((o) => o.dispose());
  fs.rmSync(dir, { recursive: true });
});

test('patience: the rate halves after N epochs without a validation gain; the validation subjects are never trained on; no tensor leaks', async () => {
  const run = scripted([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [0.5, 0.5, 0.5, 1, 1, 1, 1], rule({ patience: 2 }));
  const r = await trainFold({ method: run.method, config: config(7), set, split, progress: null });
  assert.deepEqual(r.rows.map((row) => row.reloaded), [0, 0, 1, 0, 0, 1, 0]);
  assert.deepEqual(r.rows.map((row) => row.best_epoch), [1, 1, 1, 4, 4, 4, 4]);
  assert.deepEqual(bestValidationRows(r.rows).map((row) => row.epoch), [4], 'the best-validation epoch, not the last');
  assert.deepEqual(r.rows.map((row) => row.lr), [1, 1, 1, 0.5, 0.5, 0.5, 0.25].map((f) => 0.1 * f));
  const trained = new Set(run.seen.map((s) => set.subjects[s]));
  assert.equal(trained.size, 5, `trained on subjects ${[...trained]}: 6 training subjects less 1 validation subject`);
  assert.ok([...trained].every((s) => !isTest(s)));
  assert.equal(r.rows[0].n_train, 5 * 6);
  const counts = r.rows.map((row) => row.tensors);
  assert.deepEqual(counts.slice(1), new Array(counts.length - 1).fill(counts[1]), `tensors per epoch: ${counts}`);
});

test('a fold killed mid-way resumes and ends with the numbers of an uninterrupted run (rule on, reloads before and after the kill)', async () => {
  const method: Method = { ...baselineMethod, lrPlateau: () => rule({ patience: 1 }) };
  const dir = tmp();
  const whole = await trainFold({ method, config: config(6), set, split, progress: null, checkpointFile: path.join(dir, 'a.ckpt') });
  const fired = whole.rows.filter((row) => row.reloaded === 1).map((row) => row.epoch);
  assert.ok(fired.some((e) => e <= 3) && fired.some((e) => e > 3), `the rule fired after epochs ${fired}`);
  const file = path.join(dir, 'b.ckpt');
  await assert.rejects(trainFold({ method, config: config(6), set, split, progress: null, checkpointFile: file, onEpoch: (row) => { if (row.epoch === 3) throw new Error('killed'); } }), /killed/);
  const resumed = await trainFold({ method, config: config(6), set, split, progress: null, checkpointFile: file });
  assert.deepEqual(numbers(resumed), numbers(whole));
  fs.rmSync(dir, { recursive: true });
});

test('rule off: no validation split, no new columns, the numbers of a method without the rule; its settings stay out of run ids', async () => {
  const a = await trainFold({ method: baselineMethod, config: config(2), set, split, progress: null });
  const b = await trainFold({ method: { ...baselineMethod, lrPlateau: () => null }, config: config(2), set, split, progress: null });
  assert.deepEqual(numbers(b), numbers(a));
  assert.equal(a.rows[0].n_train, split.train.length);
  assert.ok(!('val_acc' in a.rows[0]) && !('best_epoch' in a.rows[0]));
  assert.deepEqual(bestValidationRows(a.rows), []);
  const keys = ['idfermLrPlateau', 'idfermLrPatience', 'idfermLrRise', 'idfermValShare'];
  const lite = runSettings(loadConfig({ FER_PROFILE: 'lite' }), 'idferm') as unknown as Record<string, unknown>;
  assert.deepEqual(keys.filter((k) => k in lite), []);
  const on = runSettings(loadConfig({ FER_PROFILE: 'lite', FER_IDFERM_LR_PLATEAU: '1' }), 'idferm') as unknown as Record<string, unknown>;
  assert.deepEqual(keys.filter((k) => k in on), keys);
});
