import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { buildCnn3, modelFactory } from '../lib/bench/training-speed';
import { DataParallelTrainer, sliceBounds, type ModelFactory } from '../lib/train/data-parallel';
import { crossEntropy } from '../lib/train/losses';
import { OptimizerSpec, TrainOptimizer } from '../lib/train/optim';

const SIZE = 12;
const BATCH = 7; // two slices of 3 and 4: the average must weight them by size
const factory = modelFactory('buildCnn3', SIZE, 1, 7, 5); // no batch norm: data-parallel equals whole-batch training

function batch(seed: number): { x: Float32Array; labels: Int32Array } {
  const x = tf.randomUniform([BATCH, SIZE, SIZE, 1], 0, 1, 'float32', seed);
  const data = { x: x.dataSync() as Float32Array, labels: Int32Array.from({ length: BATCH }, (_, i) => (i * 3 + seed) % 7) };
  x.dispose();
  return data;
}

const weightsOf = (model: tf.LayersModel) => model.trainableWeights.map((w) => Array.from(w.read().dataSync()));

/** The same steps in this process, on whole batches. */
function singleProcess(spec: OptimizerSpec, batches: { x: Float32Array; labels: Int32Array }[]): { weights: number[][]; losses: number[] } {
  const model = buildCnn3(SIZE, 1, 7, 5);
  const opt = new TrainOptimizer(spec);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses = batches.map((b) => {
    const [x, y] = [tf.tensor4d(b.x, [BATCH, SIZE, SIZE, 1]), tf.tensor1d(b.labels, 'int32')];
    const loss = opt.step(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y), vars);
    const value = loss.dataSync()[0];
    tf.dispose([x, y, loss]);
    return value;
  });
  const weights = weightsOf(model);
  opt.dispose();
  model.dispose();
  return { weights, losses };
}

async function dataParallel(spec: OptimizerSpec, batches: { x: Float32Array; labels: Int32Array }[], f: ModelFactory = factory) {
  const trainer = await DataParallelTrainer.create({ factory: f, optimizer: spec, workers: 2 });
  try {
    const losses: number[] = [];
    for (const b of batches) losses.push(await trainer.step(b.x, b.labels));
    return { weights: weightsOf(trainer.model), losses };
  } finally {
    await trainer.dispose();
  }
}

function assertClose(a: number[][], b: number[][], tol: number, what: string) {
  let worst = 0;
  a.forEach((w, i) => w.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - b[i][k])); }));
  assert.ok(worst <= tol, `${what}: largest difference ${worst} > ${tol}`);
}

before(async () => { await initBackend(); });

test('slices are contiguous, cover the batch and differ in size by at most one', () => {
  assert.deepEqual(sliceBounds(7, 2), [[0, 3], [3, 7]]);
  assert.deepEqual(sliceBounds(1, 2), [[0, 0], [0, 1]]);
  assert.deepEqual(sliceBounds(32, 3), [[0, 10], [10, 21], [21, 32]]);
});

test('one data-parallel step equals one whole-batch step (SGD lr 1: the gradients; Adam: the weights)', async () => {
  const b = [batch(1)];
  // Adam's epsilon 1e-4: with the default 1e-8 a near-zero gradient's rounding (sums in another order) moves its step by ~1%
  for (const spec of [{ kind: 'sgd', learningRate: 1 }, { kind: 'adam', learningRate: 1e-3, epsilon: 1e-4 }] as OptimizerSpec[]) {
    const ref = singleProcess(spec, b);
    const dp = await dataParallel(spec, b);
    assert.ok(Math.abs(ref.losses[0] - dp.losses[0]) < 1e-5, `${spec.kind}: loss ${dp.losses[0]} vs ${ref.losses[0]}`);
    assertClose(dp.weights, ref.weights, 1e-5, `${spec.kind} weights after one step`);
  }
});

test('two runs from the same seed end with identical weights', async () => {
  const spec: OptimizerSpec = { kind: 'adam', learningRate: 1e-2 };
  const batches = [batch(1), batch(2), batch(3)];
  const [a, b] = [await dataParallel(spec, batches), await dataParallel(spec, batches)];
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.weights, b.weights);
  const initial = buildCnn3(SIZE, 1, 7, 5);
  assert.notDeepEqual(a.weights, weightsOf(initial), 'the steps changed the weights');
  initial.dispose();
});

test('no tensor leak in the main thread or the workers; dispose ends every worker', async () => {
  const start = tf.memory().numTensors;
  const trainer = await DataParallelTrainer.create({ factory, optimizer: { kind: 'adam', learningRate: 1e-3 }, workers: 2 });
  const b = batch(4);
  const counts: number[] = [];
  const workerCounts: string[] = [];
  for (let i = 0; i < 4; i++) {
    await trainer.step(b.x, b.labels);
    counts.push(tf.memory().numTensors);
    workerCounts.push(trainer.workerTensors.join(','));
  }
  const running = trainer.step(b.x, b.labels);
  await assert.rejects(trainer.step(b.x, b.labels), /called while step 5 runs/);
  await running;
  assert.equal(tf.memory().numTensors, counts[3]);
  assert.equal(new Set(counts.slice(1)).size, 1, `main-thread tensors per step: ${counts}`);
  assert.equal(new Set(workerCounts).size, 1, `worker tensors per step: ${workerCounts.join(' / ')}`);
  assert.equal(trainer.runningWorkers, 2);
  await trainer.dispose();
  assert.equal(trainer.runningWorkers, 0);
  assert.equal(tf.memory().numTensors, start);
  await assert.rejects(trainer.step(b.x, b.labels), /after dispose/);
});

test('failures name the worker and the step, and leave nothing running', async () => {
  const fixture = require.resolve('./data-parallel-fixture');
  await assert.rejects(DataParallelTrainer.create({ factory: { module: fixture, exportName: 'nope', args: [] }, optimizer: { kind: 'sgd', learningRate: 1 } }),
    /'nope' is not a function exported by/);
  await assert.rejects(DataParallelTrainer.create({ factory: { module: fixture, exportName: 'cnn3OtherShapeInWorkers', args: [SIZE] }, optimizer: { kind: 'sgd', learningRate: 1 } }),
    /worker \d failed while starting: its replica has other weight shapes/);

  const trainer = await DataParallelTrainer.create({ factory: { module: fixture, exportName: 'cnn3FailingInWorkers', args: [SIZE] }, optimizer: { kind: 'sgd', learningRate: 1 } });
  const b = batch(1);
  await assert.rejects(trainer.step(b.x.subarray(1), b.labels), /data-parallel step 1: .* input values for 7 labels/);
  await assert.rejects(trainer.step(b.x, b.labels), /data-parallel worker \d failed at step 2: replica exploded/);
  await assert.rejects(trainer.step(b.x, b.labels), /failed at step 2/);
  await trainer.dispose();
  assert.equal(trainer.runningWorkers, 0);
});
