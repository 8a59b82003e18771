// Whole training steps on the webgpu backend: the same losses and weights as
// the cpu backend step after step (lite-cnn, SPNDL's paired forward),
// a flat tensor count across steps and epochs, and the library's trainer
// (which reads numbers synchronously) running a fold. Skips without an adapter.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../lib/config';
import { baselineMethod } from '../lib/experiments/baseline';
import { resolveRunConfig } from '../lib/experiments/settings';
import { buildBackbone, trainableVariables } from '../lib/models/backbones';
import { pairedNdf } from '../lib/models/paired';
import { buildLiteCnnClassifier, makeTrainingStep } from '../lib/bench/training-speed';
import { trainFold } from '../lib/train/trainer';
import { linearProbe } from '../lib/analysis/linear-probe';
import { tinySet } from './tiny-set';
import { assertClose, onBoth, webgpuTest } from './webgpu-fixture';

/** Losses of `steps` Adam steps, the tensor count after each, and the final weights. */
function train(build: () => tf.LayersModel, steps: number) {
  const model = build();
  const weights = () => Object.fromEntries(model.weights.map((w, i) => [`weight ${i} [${w.shape}]`, w.read().dataSync()]));
  const step = makeTrainingStep(model, { classes: 7, batch: 8, seed: 3 });
  const losses: number[] = [], tensors: number[] = [];
  for (let i = 0; i < steps; i++) {
    losses.push(step.step());
    tensors.push(tf.memory().numTensors);
  }
  const final = weights();
  step.dispose();
  return { losses: Float32Array.from(losses), tensors, final };
}

webgpuTest('webgpu training steps of the lite-cnn follow the cpu backend step for step, with a flat tensor count', async () => {
  const before = tf.memory().numTensors;
  // 32 px, width 8, batch norm: SPNDL's lite classifier (the cpu reference takes about a second per step)
  const { cpu, gpu } = await onBoth(() => train(() => buildLiteCnnClassifier(32, 1, 8, 7, 1), 5));
  assertClose('losses', { losses: gpu.losses }, { losses: cpu.losses }, 1e-4);
  assertClose('weights after 5 steps', gpu.final, cpu.final, 1e-3);
  // step 1 creates Adam's moments; from then on the count must stay flat
  assert.deepEqual(gpu.tensors.slice(1), new Array(4).fill(gpu.tensors[1]), `tensors after each step ${gpu.tensors}`);
  assert.equal(tf.memory().numTensors, before, 'nothing left after dispose');
});

/** Gradients of every backbone weight through SPNDL's paired forward (concat, shared BN statistics, split, NDF). */
function pairedGradients(): Record<string, Float32Array> {
  const backbone = buildBackbone('lite-cnn', { inputShape: [32, 32, 1], width: 8, seed: 4 });
  const vars = trainableVariables(backbone.model);
  const out = tf.tidy(() => {
    const target = tf.randomUniform([6, 32, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const reference = tf.randomUniform([6, 32, 32, 1], 0, 1, 'float32', 6) as tf.Tensor4D;
    const r = tf.randomUniform([6, backbone.featureDim], -1, 1, 'float32', 7);
    const loss = () => tf.sum(tf.mul(pairedNdf(backbone, target, reference, true).ndf, r)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, vars);
    return {
      loss: value.dataSync() as Float32Array,
      ...Object.fromEntries(vars.map((v, i) => [`${i}`, grads[v.name].dataSync() as Float32Array])),
    };
  });
  backbone.model.dispose();
  return out;
}

webgpuTest('webgpu gradients through the paired forward (pair-normalised lite-cnn, NDF) match the cpu backend', async () => {
  const { cpu, gpu } = await onBoth(pairedGradients);
  assertClose('paired forward', gpu, cpu, 1e-4);
});

webgpuTest('the trainer runs a fold on webgpu with no tensor leak across epochs and the cpu backend\'s losses', async () => {
  const set = tinySet();
  const isTest = (s: string) => s === 'S0' || s === 'S1';
  const split = {
    fold: 0,
    train: Int32Array.from(set.subjects.flatMap((s, i) => (isTest(s) ? [] : [i]))),
    test: Int32Array.from(set.subjects.flatMap((s, i) => (isTest(s) ? [i] : []))),
  };
  const config = resolveRunConfig(loadConfig({ FER_PROFILE: 'smoke' }, { epochs: 3, batchSize: 8 }), baselineMethod, 'plain');
  const before = tf.memory().numTensors;
  const { cpu: c, gpu: g } = await onBoth(() => trainFold({ method: baselineMethod, config, set, split, progress: null }));
  const counts = g.rows.map((row) => row.tensors);
  assert.deepEqual(counts.slice(1), new Array(counts.length - 1).fill(counts[1]), `tensors per epoch: ${counts}`);
  assert.equal(tf.memory().numTensors, before);
  const losses = (r: typeof c) => Float32Array.from(r.rows.map((row) => row.train_loss));
  assertClose('train loss per epoch', { loss: losses(g) }, { loss: losses(c) }, 1e-3);
});

webgpuTest('long loops on webgpu yield to the event loop, so Dawn frees what each step made (memory stays flat)', async () => {
  const n = 80, dim = 64;
  const features = Float32Array.from({ length: n * dim }, (_, i) => Math.sin(i * 0.37));
  const labels = Array.from({ length: n }, (_, i) => i % 5);
  const [train, test] = [labels.map((_, i) => i).slice(0, 60), labels.map((_, i) => i).slice(60)];
  await linearProbe(features, dim, labels, train, test, { steps: 50 });  // shaders compiled, pools filled
  const rss0 = process.memoryUsage().rss;
  await linearProbe(features, dim, labels, train, test, { steps: 600 });
  const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
  // without the yields these 600 steps grow it by about 200 MiB (and a few more hundred steps crash Dawn)
  assert.ok(grown < 60, `native memory grew by ${grown.toFixed(0)} MiB over 600 probe steps`);
});
