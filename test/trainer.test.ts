import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { baselineMethod } from '../lib/experiments/baseline';
import type { Batch, Method } from '../lib/train/run-types';
import { resolveRunConfig } from '../lib/experiments/settings';
import { TrainOptimizer } from '../lib/train/optim';
import { buildBackbone, backboneForward } from '../lib/models/backbones';
import { loadPretrainedWeights } from '../lib/models/pretrained';
import { learningRateAt } from '../lib/train/optim';
import { EpochRow, FoldResult, trainFold } from '../lib/train/trainer';
import { tinySet } from './tiny-set';

before(async () => { await initBackend(); });

const set = tinySet();
const split = {
  fold: 0,
  train: Int32Array.from(set.subjects.flatMap((s, i) => (s === 'S0' || s === 'S1' ? [] : [i]))),
  test: Int32Array.from(set.subjects.flatMap((s, i) => (s === 'S0' || s === 'S1' ? [i] : []))),
};
const runConfig = (overrides: Record<string, string | number> = {}, variant = 'plain') =>
  resolveRunConfig(loadConfig({ FER_PROFILE: 'smoke' }, { epochs: 4, batchSize: 8, ...overrides }), baselineMethod, variant);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fer-trainer-'));

/** Everything but wall-clock speed and live-tensor counts, which differ between processes. */
const numbers = (r: FoldResult) => ({
  rows: r.rows.map(({ images_per_s: _s, tensors: _t, ...rest }: EpochRow) => rest),
  predictions: r.predictions, spl: r.spl,
});

test('no tensor leaks across epochs, and none left after the fold', async () => {
  const before = tf.memory().numTensors;
  const r = await trainFold({ method: baselineMethod, config: runConfig(), set, split, progress: null });
  const counts = r.rows.map((row) => row.tensors);
  // epoch 1 creates the optimiser's moments; from then on the count must stay flat
  assert.deepEqual(counts.slice(1), new Array(counts.length - 1).fill(counts[1]), `tensors per epoch: ${counts}`);
  assert.equal(tf.memory().numTensors, before);
});

test('same seed gives identical numbers; another seed does not', async () => {
  const a = await trainFold({ method: baselineMethod, config: runConfig(), set, split, progress: null });
  const b = await trainFold({ method: baselineMethod, config: runConfig(), set, split, progress: null });
  assert.deepEqual(numbers(a), numbers(b));
  const c = await trainFold({ method: baselineMethod, config: runConfig({ seed: 2 }), set, split, progress: null });
  assert.notDeepEqual(numbers(a).rows.map((r) => r.train_loss), numbers(c).rows.map((r) => r.train_loss));
});

test('a fold killed after an epoch resumes from its checkpoint and ends as an uninterrupted run (SPL mid-pace)', async () => {
  const config = runConfig({ splRho: '0.5,0.8,1', splPaceEpochs: '1,1,2' }, 'spl');
  const dir = tmp();
  const whole = await trainFold({ method: baselineMethod, config, set, split, progress: null, checkpointFile: path.join(dir, 'a.ckpt') });
  const file = path.join(dir, 'b.ckpt');
  await assert.rejects(trainFold({
    method: baselineMethod, config, set, split, progress: null, checkpointFile: file,
    onEpoch: (row) => { if (row.epoch === 3) throw new Error('killed'); },
  }), /killed/);
  const trained: number[] = [];
  const resumed = await trainFold({ method: baselineMethod, config, set, split, progress: null, checkpointFile: file, onEpoch: (r) => trained.push(r.epoch) });
  assert.deepEqual(trained, [4], 'only the unfinished epoch is trained again');
  assert.deepEqual(numbers(resumed), numbers(whole));
  // a finished fold is not trained again
  const again = await trainFold({ method: baselineMethod, config, set, split, progress: null, checkpointFile: file, onEpoch: () => assert.fail('retrained') });
  assert.deepEqual(numbers(again), numbers(whole));
  fs.rmSync(dir, { recursive: true });
});

test('learning-rate milestones apply per epoch', async () => {
  assert.equal(learningRateAt({ kind: 'adam', learningRate: 1, schedule: { kind: 'milestones', milestones: [2, 3], gamma: 0.1 } }, 3), 0.1);
  assert.equal(learningRateAt({ kind: 'sgd', learningRate: 1, schedule: { kind: 'step', every: 2, gamma: 0.5 } }, 5), 0.25);
  const r = await trainFold({ method: baselineMethod, config: runConfig({ lrSchedule: 'milestones', lrMilestones: '2', epochs: 3 }), set, split, progress: null });
  assert.deepEqual(r.rows.map((row) => row.lr), [1e-3, 1e-3, 1e-3 * 0.1]);
});

test('backbones give features and maps of the documented shapes; ResNet-18 has torchvision\'s parameter count', () => {
  const x = tf.zeros([2, 32, 32, 1]) as tf.Tensor4D;
  const lite = buildBackbone('lite-cnn', { inputShape: [32, 32, 1], width: 8, seed: 1 });
  const out = tf.tidy(() => backboneForward(lite, x, false));
  assert.deepEqual(out.features.shape, [2, 64]);
  assert.deepEqual(Object.values(out.maps).map((m) => m.shape), [[2, 16, 16, 8], [2, 8, 8, 16], [2, 4, 4, 32], [2, 2, 2, 64]]);
  const lr = buildBackbone('lite-resnet', { inputShape: [32, 32, 1], width: 8, seed: 1 });
  assert.deepEqual(tf.tidy(() => backboneForward(lr, x, false)).features.shape, [2, 64]);
  const r18 = buildBackbone('resnet18', { inputShape: [32, 32, 3], seed: 1 });
  // trainable conv + BN parameters of torchvision resnet18 without fc: 11,689,512 - 513,000
  assert.equal(r18.model.trainableWeights.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0), 11176512);
  tf.dispose([x, out.features, ...Object.values(out.maps)]);
  [lite, lr, r18].forEach((b) => b.model.dispose());
});

test('pretrained weights load by name (tfjs or torchvision names); a shape mismatch names the file and weight', async () => {
  const src = buildBackbone('lite-cnn', { inputShape: [16, 16, 1], width: 4, seed: 1 });
  const dst = buildBackbone('lite-cnn', { inputShape: [16, 16, 1], width: 4, seed: 2 });
  const dir = tmp();
  const write = async (name: (n: string) => string, model = src) => {
    const named = model.model.weights.map((w) => ({ name: name(w.originalName), tensor: w.read() }));
    const { data, specs } = await tf.io.encodeWeights(named);
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.from(data));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['w.bin'], weights: specs }] }));
    return path.join(dir, 'model.json');
  };
  const torchName = (n: string) => n.replace('/kernel', '.weight').replace('/gamma', '.weight').replace('/beta', '.bias')
    .replace('/moving_mean', '.running_mean').replace('/moving_variance', '.running_var');
  const report = loadPretrainedWeights(dst.model, await write(torchName));
  assert.equal(report.loaded.length, dst.model.weights.length);
  dst.model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), src.model.weights[i].read().dataSync()));
  const wide = buildBackbone('lite-cnn', { inputShape: [16, 16, 1], width: 8, seed: 1 });
  const file = await write((n) => n, wide);
  assert.throws(() => loadPretrainedWeights(dst.model, file), (e: Error) => e.message.includes(file) && e.message.includes('block1.conv/kernel'));
  assert.throws(() => loadPretrainedWeights(dst.model, path.join(dir, 'missing.json')), /not found: .*missing\.json/);
  [src, dst, wide].forEach((b) => b.model.dispose());
  fs.rmSync(dir, { recursive: true });
});

test('paired methods get each target\'s neutral reference; a set without references is a clear error', async () => {
  const { backboneForRun } = await import('../lib/experiments/baseline');
  const { linearClassifier } = await import('../lib/models/heads');
  const { TrainOptimizer } = await import('../lib/train/optim');
  const { crossEntropy } = await import('../lib/train/losses');
  const { trainableVariables, backboneFeatures } = await import('../lib/models/backbones');
  let pairsSeen = 0;
  // the shape of SPNDL's step: target and reference in one batch (joint BN), features subtracted
  const paired: Method = {
    ...baselineMethod, name: 'pair-probe', options: {},
    inputs: () => ({ train: 'pair', test: 'pair' }),
    build(ctx) {
      const backbone = backboneForRun(ctx);
      const head = linearClassifier(backbone.featureDim, ctx.data.classes.length, ctx.seed + 1);
      const opt = new TrainOptimizer({ kind: 'adam', learningRate: 1e-3 });
      const logitsOf = (b: Batch, training: boolean) => {
        const m = b.target.shape[0];
        const f = backboneFeatures(backbone, tf.concat([b.target, b.neutral!]) as tf.Tensor4D, training); // [2m, D]
        return head.apply(tf.sub(f.slice([0, 0], [m, -1]), f.slice([m, 0], [m, -1]))) as tf.Tensor2D;
      };
      return {
        parts: { backbone: backbone.model, head }, optimizers: { model: opt },
        trainStep(b) {
          assert.deepEqual(b.neutral!.shape, b.target.shape);
          pairsSeen += b.target.shape[0];
          return { losses: { loss: opt.step(() => crossEntropy(logitsOf(b, true), b.labels), trainableVariables(backbone.model, head)) } };
        },
        predict: (b) => tf.tidy(() => logitsOf(b, false)),
      };
    },
  };
  const r = await trainFold({ method: paired, config: runConfig({ epochs: 1 }), set, split, progress: null });
  assert.equal(pairsSeen, split.train.length);
  assert.ok(Number.isNaN(r.rows[0].train_acc), 'no logits reported: no training accuracy invented');
  await assert.rejects(trainFold({ method: paired, config: runConfig({ epochs: 1 }), set: { ...set, neutral: null }, split, progress: null }),
    /dataset 'tiny' has no neutral references, but the method trains on \(target, neutral\) pairs/);
});

test('a disposed optimiser of every kind leaves no tensors behind, after steps too', () => {
  for (const kind of ['adam', 'sgd', 'momentum'] as const) {
    const before = tf.memory().numTensors;
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2])));
    const opt = new TrainOptimizer({ kind, learningRate: 0.1, weightDecay: 1e-4 });
    opt.step(() => tf.sum(tf.square(v)) as tf.Scalar, [v]).dispose();
    opt.dispose();
    v.dispose();
    assert.equal(tf.memory().numTensors, before, kind);
  }
});
