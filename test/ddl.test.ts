import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { linearProbe } from '../lib/analysis/linear-probe';
import { buildDdm, ddmForward } from '../lib/models/ddl/ddm';
import { StepDropout } from '../lib/models/ddl/layers';
import { buildDfem, factorLabels, parseFactors } from '../lib/models/ddl/dfem';
import { attentionTransferLoss, maskedMultiTaskLoss } from '../lib/models/ddl/losses';
import { cropBatch, ddlConfig, ddlMethod, dfemGroups, type DdlModel } from '../lib/experiments/ddl';
import { resolveRunConfig } from '../lib/experiments/settings';
import { planRun } from '../lib/experiments/runner';
import { saveCheckpoint } from '../lib/train/checkpoint';
import { rng } from '../lib/data/random';
import type { ManifestRow } from '../lib/data/manifest';

before(async () => { await initBackend(); });

const opts = { width: 2, blocks: 1, inputShape: [20, 20, 1] as [number, number, number], classes: 3, featureDim: 8, dropout: 0.5, seed: 3 };
const image = (b = 4, side = 20) => tf.randomUniform([b, side, side, 1], 0, 1, 'float32', 5) as tf.Tensor4D;

test('DDM shapes: multi-level a_out has 23w channels, S_d gives 5 transfer maps and f^d; the test-time model (S_g + S_e) gives the same logits', () => {
  const ddm = buildDdm({ ...opts, head: 'multi', disturbance: true });
  const x = image();
  const f = ddmForward(ddm, x, false);
  assert.deepEqual(f.logits.shape, [4, 3]);
  assert.deepEqual(f.fd!.shape, [4, 8]);
  assert.deepEqual(f.qd.map((q) => q.shape), [[4, 10, 10, 2], [4, 5, 5, 4], [4, 3, 3, 8], [4, 2, 2, 16], [4, 2, 2, 16]]);
  const maps = ddm.maps.apply(x) as tf.Tensor[];
  assert.equal(maps[5].shape[3], 23 * 2); // [a1..a5] + a_out: 1472 = 23 x 64 in the paper
  const [testLogits] = ddm.expression.apply(x, { training: false }) as tf.Tensor[];
  assert.ok(tf.max(tf.abs(tf.sub(testLogits, f.logits))).dataSync()[0] < 1e-6);
  assert.equal(ddm.mixes.length, 8); // 2 branches x levels 2..5
  const d = ddm.mixes[0].layer.deltas();
  assert.ok(Math.abs(d.task - Math.exp(1) / (Math.exp(1) + 1)) < 1e-6, 'softmax([1, 0]) starts the task path at 0.731');
  tf.dispose([x, f.logits, f.fe, f.fd!, ...f.qd, ...maps, testLogits]);
  ddm.full.dispose();
});

test('the expression loss reaches S_g and S_e but not S_d; the transfer loss reaches S_d and S_g but not the expression head', () => {
  const ddm = buildDdm({ ...opts, head: 'multi', disturbance: true });
  const x = image();
  const y = tf.tensor1d([0, 1, 2, 0], 'int32');
  const vars = ddm.full.trainableWeights.map((w) => w.read() as tf.Variable);
  const reached = (loss: () => tf.Scalar) => {
    const { grads, value } = tf.variableGrads(loss, vars);
    const names = Object.entries(grads).filter(([, g]) => tf.max(tf.abs(g)).dataSync()[0] > 0).map(([n]) => n);
    tf.dispose([value, ...Object.values(grads)]);
    return names;
  };
  const ce = reached(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), ddmForward(ddm, x, true).logits) as tf.Scalar);
  assert.ok(ce.some((n) => n.startsWith('Sg.')) && ce.some((n) => n.startsWith('Se.')));
  assert.ok(!ce.some((n) => n.startsWith('Sd.')), 'S_d gets no expression gradient');
  const target = tf.randomNormal([4, 10, 10, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
  const at = reached(() => attentionTransferLoss(ddmForward(ddm, x, true).qd.slice(0, 1), [target]));
  assert.ok(at.some((n) => n.startsWith('Sd.')) && at.some((n) => n.startsWith('Sg.')));
  assert.ok(!at.some((n) => n.startsWith('Se.head')), 'the transfer loss does not train the expression head');
  tf.dispose([x, y, target]);
  ddm.full.dispose();
});

test('masked multi-task loss skips missing labels (DDL Eq. 1, Sec. 4.2); attention transfer is 0 for equal maps, scale-invariant and at most 2 per level', () => {
  const z = tf.tensor2d([[2, 0], [0, 2], [1, 1]]);
  const full = maskedMultiTaskLoss([z], [tf.tensor1d([0, 1, -1], 'int32')]).dataSync()[0];
  const two = tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2), z.slice(0, 2)).dataSync()[0];
  assert.ok(Math.abs(full - two) < 1e-6, 'the unlabelled sample is left out of the mean');
  assert.equal(maskedMultiTaskLoss([z], [tf.tensor1d([-1, -1, -1], 'int32')]).dataSync()[0], 0);
  const a = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
  const b = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
  for (const norm of ['batch', 'sample'] as const) {
    assert.ok(attentionTransferLoss([a], [a.mul(3) as tf.Tensor4D], norm).dataSync()[0] < 1e-4);
    const l = attentionTransferLoss([a], [b], norm).dataSync()[0];
    assert.ok(l > 0 && l <= 2);
    assert.ok(Math.abs(attentionTransferLoss([a.mul(5) as tf.Tensor4D], [b], norm).dataSync()[0] - l) < 1e-4);
  }
});

test('factor labels come from the manifest columns; missing values are -1; a constant factor is an error naming it', () => {
  const rows = [{ pose_bin: 0, gender: 'male', subject: 's1' }, { pose_bin: 4, gender: '', subject: 's2' }, { pose_bin: 2, gender: 'female', subject: 's1' }] as unknown as ManifestRow[];
  const g = factorLabels(rows, 'g');
  assert.deepEqual([g.classes, Array.from(g.labels)], [['female', 'male'], [1, -1, 0]]);
  assert.deepEqual(Array.from(factorLabels(rows, 'p').labels), [0, 2, 1]);
  assert.throws(() => factorLabels(rows, 'il'), /illumination/);
  assert.throws(() => factorLabels([rows[0], rows[0]], 'p'), /FER_DDL_POSE/);
  assert.throws(() => parseFactors('g,x'), /'x' is not a factor/);
  assert.deepEqual(dfemGroups(['g', 'a', 'id', 'p'], 'per-source'), [['id', 'p'], ['g', 'a']]);
});

test('crops: centre crop is deterministic, random crops stay inside the image', () => {
  const x = tf.tensor4d(Float32Array.from({ length: 36 }, (_, i) => i), [1, 6, 6, 1]);
  assert.deepEqual(Array.from(cropBatch(x, 4, null, false).dataSync()), [7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 21, 22, 25, 26, 27, 28]);
  assert.equal(cropBatch(x, 4, rng(1, 't'), true).shape[1], 4);
  assert.throws(() => cropBatch(x, 8, null, false), /ddlCrop=8/);
});

test('linear probe: near perfect on a linearly coded label, near chance on a random one', async () => {
  const r = rng(7, 'probe');
  const n = 200, dim = 4;
  const feats = new Float32Array(n * dim), coded = new Int32Array(n), random = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    coded[i] = i % 3; random[i] = Math.floor(r() * 3);
    for (let d = 0; d < dim; d++) feats[i * dim + d] = r() + (d === 0 ? coded[i] * 2 : 0);
  }
  const train = Array.from({ length: 150 }, (_, i) => i), testIdx = Array.from({ length: 50 }, (_, i) => 150 + i);
  const good = await linearProbe(feats, dim, coded, train, testIdx);
  assert.ok(good.testAccuracy > 0.95, `coded: ${good.testAccuracy}`);
  const bad = await linearProbe(feats, dim, random, train, testIdx);
  assert.ok(bad.testAccuracy < 0.6, `random: ${bad.testAccuracy}`);
  const tensors = tf.memory().numTensors;
  assert.deepEqual(await linearProbe(feats, dim, coded, train, testIdx), good, 'deterministic');
  assert.equal(tf.memory().numTensors, tensors, 'a probe leaves no tensors behind');
  await assert.rejects(linearProbe(feats, dim, coded.subarray(1), train, testIdx), /labels/);
});

test('a DDL training step (DDM + discriminator against a stored DFEM) is deterministic, finite and leaks no tensors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddl-dfem-'));
  const config = resolveRunConfig(ddlConfig(loadConfig({ FER_PROFILE: 'smoke' }), { ddlWidth: 2, ddlCrop: 20, ddlFeatureDim: 8 }), ddlMethod, 'ddl-g');
  const dfem = buildDfem({ width: 2, blocks: 1, inputShape: [20, 20, 1], featureDim: 8, seed: 1, heads: [{ factor: 'g', classes: 2 }] });
  fs.mkdirSync(path.join(dir, 'work'));
  await saveCheckpoint(path.join(dir, 'work', 'fold-0.ckpt'), { state: {}, parts: { dfem }, optimizers: {} });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  fs.writeFileSync(path.join(dir, 'dfem-heads.json'), JSON.stringify({ classes: [2] }));
  dfem.dispose();
  const run = async () => {
    const model = await ddlMethod.build({ config, options: config.options, data: { size: 24, channels: 1, classes: ['a', 'b', 'c'], hasNeutral: false }, fold: 0, seed: 9, prepared: { dfems: [{ factors: ['g'], runDir: dir }] } }) as DdlModel;
    const losses: number[] = [];
    let before = 0;
    for (let step = 0; step < 3; step++) {
      const batch = { target: image(4, 24), neutral: null, labels: tf.tensor1d([0, 1, 2, 0], 'int32'), samples: Int32Array.from([0, 1, 2, 3]) };
      const res = model.trainStep(batch, { epoch: 1, totalEpochs: 1, pace: 1, step, seed: step, rng: rng(step, 's') });
      assert.deepEqual(Object.keys(res.losses).sort(), ['adv', 'at', 'ce', 'disc', 'loss']);
      losses.push(res.losses.loss.dataSync()[0]);
      tf.dispose([...Object.values(res.losses), res.logits!, batch.target, batch.labels]);
      if (step === 1) before = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leak across steps');
    model.dispose!();
    Object.values(model.optimizers).forEach((o) => o.dispose());
    Object.values(model.parts).forEach((p) => p.dispose());
    return losses;
  };
  const a = await run();
  assert.ok(a.every(Number.isFinite));
  assert.deepEqual(await run(), a);
});

test("update order: with 'd-first' (default) the network's L_adv of step t reads D after D's update of step t; 'ddm-first' reads D before it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddl-order-'));
  const dfem = buildDfem({ width: 2, blocks: 1, inputShape: [20, 20, 1], featureDim: 8, seed: 1, heads: [{ factor: 'g', classes: 2 }] });
  fs.mkdirSync(path.join(dir, 'work'));
  await saveCheckpoint(path.join(dir, 'work', 'fold-0.ckpt'), { state: {}, parts: { dfem }, optimizers: {} });
  fs.writeFileSync(path.join(dir, 'dfem-heads.json'), JSON.stringify({ classes: [2] }));
  dfem.dispose();
  const base = ddlConfig(loadConfig({ FER_PROFILE: 'smoke' }), { ddlWidth: 2, ddlCrop: 20, ddlFeatureDim: 8, ddlLearningRate: 0.05, ddlDropout: 0 });
  const advSeen = async (updateOrder?: string) => {
    const config = resolveRunConfig(base, ddlMethod, 'ddl-g', updateOrder ? { updateOrder } : {});
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    const build = async () => await ddlMethod.build({ config, options: config.options, data: { size: 24, channels: 1, classes: ['a', 'b', 'c'], hasNeutral: false }, fold: 0, seed: 9, prepared: { dfems: [{ factors: ['g'], runDir: dir }] } }) as DdlModel;
    const model = await build(), twin = await build(); // twin: same weights, never stepped
    const batch = { target: image(4, 24), neutral: null, labels: tf.tensor1d([0, 1, 2, 0], 'int32'), samples: Int32Array.from([0, 1, 2, 3]) };
    const res = model.trainStep(batch, { epoch: 1, totalEpochs: 1, pace: 1, step: 0, seed: 0, rng: rng(4, 'order') });
    const reported = res.losses.adv.dataSync()[0];
    // f^d of step t: the step's forward before any update (same crop draws, no dropout, batch-statistics BN)
    const x = cropBatch(batch.target, 20, rng(4, 'order'), true);
    const fd = ddmForward(twin.ddm, x, true).fd!;
    const bce = (d: tf.LayersModel) => tf.tidy(() => tf.losses.sigmoidCrossEntropy(tf.onesLike(d.apply(fd) as tf.Tensor), d.apply(fd) as tf.Tensor).dataSync()[0]);
    const withNewD = bce(model.parts.disc), withOldD = bce(twin.parts.disc);
    tf.dispose([...Object.values(res.losses), res.logits!, batch.target, batch.labels, x, fd]);
    for (const m of [model, twin]) {
      m.dispose!();
      Object.values(m.optimizers).forEach((o) => o.dispose());
      Object.values(m.parts).forEach((p) => p.dispose());
    }
    return { reported, withNewD, withOldD };
  };
  const dFirst = await advSeen();
  assert.ok(Math.abs(dFirst.withNewD - dFirst.withOldD) > 1e-4, `D's step must change L_adv measurably (${dFirst.withNewD} vs ${dFirst.withOldD})`);
  assert.ok(Math.abs(dFirst.reported - dFirst.withNewD) < 1e-5, `default order: L_adv ${dFirst.reported} should use the updated D (${dFirst.withNewD}), not the old one (${dFirst.withOldD})`);
  const ddmFirst = await advSeen('ddm-first');
  assert.ok(Math.abs(ddmFirst.reported - ddmFirst.withOldD) < 1e-5, `ddm-first: L_adv ${ddmFirst.reported} should use the old D (${ddmFirst.withOldD})`);
});

test('dropout draws a new mask at every training step (tfjs seeded dropout repeats one mask: half the units would never train, yet all feed the test-time output)', () => {
  const layer = new StepDropout({ rate: 0.5, seed: 4 });
  const x = tf.ones([1, 64]);
  const mask = (stepSeed: number) => {
    layer.setStepSeed(stepSeed);
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const m = Array.from(y.dataSync()).map((v) => (v > 0 ? 1 : 0)).join('');
    y.dispose();
    return m;
  };
  const a = mask(1), b = mask(2);
  assert.notEqual(a, b, 'two steps drop different units');
  assert.equal(mask(1), a, 'same step seed, same mask (determinism)');
  const kept = [...a].filter((c) => c === '1').length;
  assert.ok(kept > 16 && kept < 48, `about half kept (${kept}/64)`);
  const evalOut = layer.apply(x, { training: false }) as tf.Tensor;
  assert.equal(tf.sum(evalOut).dataSync()[0], 64, 'identity at test time');
  tf.dispose([x, evalOut]);
  // inside the DDM: consecutive training forwards with new step seeds differ in the head's masks
  const ddm = buildDdm({ ...opts, head: 'plain', disturbance: false, dropout: 0.5 });
  const img = image(2);
  const fe = (s: number) => { ddm.setStepSeed(s); const f = ddmForward(ddm, img, true); const v = Array.from(f.fe.dataSync()); tf.dispose([f.logits, f.fe]); return v; };
  const f1 = fe(1), f2 = fe(2), f1again = fe(1);
  assert.notDeepEqual(f1, f2);
  assert.deepEqual(f1, f1again);
  img.dispose();
  ddm.full.dispose();
});

test("trunk downsampling: 'maxpool' (lite) pools 2x2 before stride-1 blocks, 'stride' (paper, default) uses stride-2 convs; same maps and weights, different run ids", () => {
  const strided = (o: Partial<typeof opts> & { downsample?: 'stride' | 'maxpool' }) => {
    const ddm = buildDdm({ ...opts, head: 'multi', disturbance: true, ...o });
    const layers = ddm.full.layers;
    const out = {
      stride2: layers.filter((l) => l.getClassName() === 'Conv2D' && (l.getConfig().strides as number[])[0] === 2).length,
      pools: layers.filter((l) => /^Sg\.stage\d\.pool$/.test(l.name)).length,
      weights: ddm.full.weights.map((w) => w.shape.join('x')).join(','),
      maps: (ddm.full.outputs.slice(3) as tf.SymbolicTensor[]).map((t) => t.shape.join('x')).join(','),
    };
    ddm.full.dispose();
    return out;
  };
  const byDefault = strided({}), s = strided({ downsample: 'stride' }), m = strided({ downsample: 'maxpool' });
  assert.deepEqual(byDefault, s, "the default is the paper's strided trunk");
  assert.ok(s.stride2 > 0 && s.pools === 0);
  assert.equal(m.stride2, 0);
  assert.equal(m.pools, 4, 'one pool per stage');
  assert.equal(m.weights, s.weights, 'same weights: a stored DFEM loads into either trunk');
  assert.equal(m.maps, s.maps, 'same u_1..u_5 sizes, so the transfer maps line up');
  const lite = ddlConfig(loadConfig({ FER_PROFILE: 'lite' })), paper = ddlConfig(loadConfig({ FER_PROFILE: 'paper' }));
  assert.equal(lite.ddlDownsample, 'maxpool');
  assert.equal(paper.ddlDownsample, 'stride');
  const id = (downsample: string) => planRun({ config: { ...lite, ddlDownsample: downsample } as typeof lite, method: 'ddl', variant: 'baseline' }).runId;
  assert.notEqual(id('maxpool'), id('stride'), 'the setting is part of the cache key');
});
