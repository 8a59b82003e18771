/**
 * IDFERM mechanics (paper §3–4; the checks are ours): comparison counts, the radial
 * loss's geometry, H's initial form, test-time independence from the
 * reference, the HNG's gradient routing (no adversarial/symmetry gradient to
 * the encoder), no tensor leaks, determinism and the samplers.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { buildHng, generate, hngStep, PAPER_WEIGHTS, POSITIONAL_WEIGHTS, symmetryLoss } from '../lib/models/idferm/hng';
import { hngSettings, hngVariantSettings } from '../lib/experiments/idferm-hng/settings';
import { buildIdNet, identityNetFromModel } from '../lib/models/idferm/identity-net';
import { buildRmlNet, comparisonFormulas, decisionH, disposeRml, radialLoss, rmlForward, rmlPredict, tripletLoss, tupletClustersLoss } from '../lib/models/idferm/rml';
import { classBalancedBatches, sparseKeep, subjectBatches } from '../lib/experiments/idferm';
import { getMethod } from '../lib/experiments/methods';
import { linkedVariants } from '../lib/results/paper-tables';
import { loadConfig } from '../lib/config';
import * as dfd from 'danfojs-node';
import { runSummary } from '../lib/experiments/idferm-report';
import type { StoredRun } from '../lib/results/store';

before(async () => { await initBackend(); });

const arch = { size: 16, classes: 3, width: 4, dIn: 16, dOut: 8, d: 4, lreluSlope: 0.1, connect: true, seed: 3 };

test('comparison counts: RML makes 2K evaluations, the formulas match the paper at K = 12, N = M = 5', () => {
  const byLoss = Object.fromEntries(comparisonFormulas(12, 5, 5).map((r) => [r.loss, r.count]));
  assert.equal(byLoss['RML (IDFERM)'], 24);
  assert.equal(byLoss['(N+M)-tuplet clusters'], 240);
  assert.equal(byLoss['triplet / (N+1)-tuplet'], 1728);
  const net = buildRmlNet({ ...arch, d: 4 });
  const counts = tf.tidy(() => {
    const labels = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const f = tf.randomNormal([6, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const r = radialLoss(net.head, f, tf.randomNormal([6, 4], 0, 1, 'float32', 2) as tf.Tensor2D, tf.tensor1d(labels, 'int32'), 3);
    const t = tripletLoss(f, labels);
    return [r.evaluations, t.evaluations];
  });
  assert.deepEqual(counts, [12, 2 * 6 * 1 * 4]); // 2K; batch-all on 2 per class: K·1·(K−2) triplets, 2 distances each
  // triplets grow at least quadratically in K
  const trip = (k: number) => tf.tidy(() => tripletLoss(tf.randomNormal([k, 4]) as tf.Tensor2D, Int32Array.from({ length: k }, (_, i) => Math.floor(i / 2))).evaluations);
  assert.ok(trip(12) / trip(6) >= 4);
  Object.values(net).forEach((p) => p instanceof tf.LayersModel && p.dispose());
});

test('H starts as half the squared distance (L_A ≈ L_B ≈ I, c = 0, b = 0), and the radial loss is 0 only for queries inside and references outside', () => {
  const net = buildRmlNet(arch);
  tf.tidy(() => {
    const f1 = tf.tensor2d([[1, 0, 0, 0], [0, 2, 0, 0]]);
    const f2 = tf.tensor2d([[0, 0, 0, 0], [0, 0, 0, 0]]);
    const h = decisionH(net.head, f1, f2).arraySync();
    assert.ok(Math.abs(h[0] - 0.5) < 0.05 && Math.abs(h[1] - 2) < 0.15, `H = ${h}`);
    const labels = tf.tensor1d([0, 0], 'int32');
    const q = tf.tensor2d([[0.1, 0, 0, 0], [-0.1, 0, 0, 0]]); // centre 0, H ≈ 0.005: inside needs H ≤ −1, so not yet zero
    const farRef = tf.tensor2d([[3, 0, 0, 0], [-3, 0, 0, 0]]); // H ≈ 4.5 ≥ 1: no reference term
    const nearRef = tf.tensor2d([[0.2, 0, 0, 0], [-0.2, 0, 0, 0]]);
    const far = radialLoss(net.head, q, farRef, labels, 2).loss.dataSync()[0];
    const near = radialLoss(net.head, q, nearRef, labels, 2).loss.dataSync()[0];
    assert.ok(near > far + 0.5, `a reference near the centre must cost more (near ${near}, far ${far})`);
    assert.ok(Math.abs(far - 1.005) < 0.05, `far-reference loss ${far} should be only the query hinge 1 + H`);
  });
  Object.values(net).forEach((p) => p instanceof tf.LayersModel && p.dispose());
});

test('(N+M) loss mines same-subject negatives inside the batch; with none it contributes nothing', () => {
  const net = buildRmlNet(arch);
  tf.tidy(() => {
    const f = tf.randomNormal([4, 4], 0, 1, 'float32', 5) as tf.Tensor2D;
    const r = tupletClustersLoss(net.head, f, Int32Array.from([0, 1, 0, 1]), ['a', 'a', 'b', 'b']);
    assert.equal(r.queriesWithNegatives, 4);
    assert.equal(r.evaluations, 4 * (2 + 1)); // each query: itself + 1 positive, 1 negative
    const none = tupletClustersLoss(net.head, f, Int32Array.from([0, 1, 0, 1]), ['a', 'b', 'c', 'd']);
    assert.equal(none.queriesWithNegatives, 0);
    assert.equal(none.loss.dataSync()[0], 0);
  });
  Object.values(net).forEach((p) => p instanceof tf.LayersModel && p.dispose());
});

test('building and disposing the RML network leaves no tensor behind (the head\'s layers are shared by both sides of H)', () => {
  disposeRml(buildRmlNet(arch)); // first build: tfjs's own one-off tensors
  const n0 = tf.memory().numTensors;
  disposeRml(buildRmlNet(arch));
  assert.equal(tf.memory().numTensors, n0, 'tensors left after build + dispose');
});

test('test-time prediction uses one query through the EC branch only (IDFERM Sec. 5.3): the ML branch and head do not change it', () => {
  const net = buildRmlNet(arch);
  const x = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const before = rmlPredict(net, x).arraySync();
  tf.tidy(() => { for (const p of [net.ml, net.head]) p.setWeights(p.getWeights().map((w) => tf.add(w, 1))); });
  assert.deepEqual(rmlPredict(net, x).arraySync(), before);
  const out = tf.tidy(() => rmlForward(net, x, false).f.shape);
  assert.deepEqual(out, [2, arch.d]);
  x.dispose();
  Object.values(net).forEach((p) => p instanceof tf.LayersModel && p.dispose());
});

function tinyHng(residual = false) {
  const hng = buildHng({ size: 16, width: 2, latent: 8, seed: 1, residual });
  const id = identityNetFromModel(buildIdNet({ size: 16, width: 2, embedding: 4, subjects: 3, seed: 2 }), 'synthetic', 'test');
  const batch = tf.tidy(() => ({
    x: tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 2) as tf.Tensor4D,
    g: tf.randomUniform([4, 16, 16, 1], -1, 1, 'float32', 3) as tf.Tensor4D,
  }));
  return { hng, id, batch };
}

test('HNG: the encoder gets no gradient from the symmetry and adversarial losses; losses finite; no leak; deterministic', () => {
  const { hng, id, batch } = tinyHng();
  const snapshot = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const enc0 = snapshot(hng.enc), dec0 = snapshot(hng.dec);
  const sgd = () => tf.train.sgd(0.1);
  const onlyDecoderLosses = { ...PAPER_WEIGHTS, feat: 0, id: 0, pixel: 0 };
  hngStep(hng, id, batch, { weights: onlyDecoderLosses, idRef: 'input', symSpace: 'laplacian' }, sgd(), sgd());
  const changed = (a: number[][], b: number[][]) => a.some((w, i) => w.some((v, j) => v !== b[i][j]));
  assert.ok(!changedTrainable(hng.enc, enc0), 'encoder weights moved under sym + adv only');
  assert.ok(changed(dec0, snapshot(hng.dec)), 'decoder weights did not move');
  const gen = tf.train.adam(1e-3), dis = tf.train.adam(1e-3);
  hngStep(hng, id, batch, { weights: PAPER_WEIGHTS, idRef: 'input', symSpace: 'laplacian' }, gen, dis);
  const n0 = tf.memory().numTensors;
  const l = hngStep(hng, id, batch, { weights: PAPER_WEIGHTS, idRef: 'input', symSpace: 'laplacian' }, gen, dis);
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked across HNG steps');
  for (const k of ['feat', 'id', 'pixel', 'sym', 'adv', 'dis', 'gen'] as const) assert.ok(Number.isFinite(l[k]), `${k} = ${l[k]}`);
  // the same seeds give the same first step
  const again = tinyHng();
  const a = hngStep(again.hng, again.id, again.batch, { weights: PAPER_WEIGHTS, idRef: 'input', symSpace: 'laplacian' }, tf.train.adam(1e-3), tf.train.adam(1e-3));
  const third = tinyHng();
  const b = hngStep(third.hng, third.id, third.batch, { weights: PAPER_WEIGHTS, idRef: 'input', symSpace: 'laplacian' }, tf.train.adam(1e-3), tf.train.adam(1e-3));
  assert.deepEqual(a, b);
});

/** Only trainable weights: BN moving statistics legitimately change in a training-mode pass. */
function changedTrainable(m: tf.LayersModel, before: number[][]): boolean {
  const names = m.weights.map((w) => w.name);
  const trainable = new Set(m.trainableWeights.map((w) => w.name));
  return m.getWeights().some((w, i) => trainable.has(names[i]) && Array.from(w.dataSync()).some((v, j) => v !== before[i][j]));
}

/** Trains on the pixel loss alone for 16 steps; asserts it fell. Returns the optimisers for further steps. */
function assertPixelLossFalls(hng: ReturnType<typeof tinyHng>['hng'], batch: ReturnType<typeof tinyHng>['batch']) {
  const w = { feat: 0, id: 0, pixel: 1, sym: 0, adv: 0 };
  const gen = tf.train.adam(5e-3), dis = tf.train.adam(1e-3);
  const first = hngStep(hng, null, batch, { weights: w, idRef: 'input', symSpace: 'pixel' }, gen, dis).pixel;
  let last = first;
  for (let i = 0; i < 15; i++) last = hngStep(hng, null, batch, { weights: w, idRef: 'input', symSpace: 'pixel' }, gen, dis).pixel;
  assert.ok(last < first, `pixel loss ${first} -> ${last}`);
  return { gen, dis };
}

test('HNG: a pixel-only auto-encoder lowers its loss on a tiny set', () => {
  const { hng, batch } = tinyHng();
  assertPixelLossFalls(hng, batch);
});

test('residual HNG: starts as the identity map, learns a change that lowers the pixel loss, leaks nothing; the discriminator is seeded as without it', () => {
  const { hng, id, batch } = tinyHng(true);
  const x0 = generate(hng, batch.x);
  assert.ok(tf.max(tf.abs(tf.sub(x0, batch.x))).dataSync()[0] < 1e-6, 'a fresh residual generator must return its input');
  x0.dispose();
  const { gen, dis } = assertPixelLossFalls(hng, batch);
  hngStep(hng, id, batch, { weights: PAPER_WEIGHTS, idRef: 'input', symSpace: 'laplacian' }, gen, dis); // creates the discriminator's Adam slots
  const n0 = tf.memory().numTensors;
  const l = hngStep(hng, id, batch, { weights: PAPER_WEIGHTS, idRef: 'input', symSpace: 'laplacian' }, gen, dis);
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked across residual HNG steps');
  for (const k of ['feat', 'id', 'pixel', 'sym', 'adv', 'dis', 'gen'] as const) assert.ok(Number.isFinite(l[k]), `${k} = ${l[k]}`);
  const plain = tinyHng(false);
  assert.deepEqual(plain.hng.dis.getWeights().map((v) => Array.from(v.dataSync())), tinyHng(true).hng.dis.getWeights().map((v) => Array.from(v.dataSync())));
});

test('HNG settings: the pixel weight sets w2 of the index mapping only; residual, pixel weight and warm-up rate change the stage cache key', () => {
  assert.deepEqual(hngVariantSettings('full').weights, PAPER_WEIGHTS);
  assert.equal(hngVariantSettings('full', 1).weights.pixel, 1);
  assert.equal(hngVariantSettings('no-id', 1).weights.id, 0);
  assert.deepEqual(hngVariantSettings('positional', 1).weights, POSITIONAL_WEIGHTS);
  assert.equal(hngVariantSettings('ae-only', 0.5).weights.pixel, 1);
  const base = loadConfig({ FER_PROFILE: 'smoke' });
  const key = (c: typeof base) => JSON.stringify(hngSettings(c));
  for (const change of [{ idfermHngResidual: !base.idfermHngResidual }, { idfermHngPixelWeight: base.idfermHngPixelWeight + 1 }, { idfermHngWarmupLearningRate: base.idfermHngWarmupLearningRate * 2 }])
    assert.notEqual(key({ ...base, ...change }), key(base), JSON.stringify(change));
  const paper = loadConfig({ FER_PROFILE: 'paper' });
  assert.equal(paper.idfermHngResidual, false, 'the paper profile keeps the paper\'s plain encoder-decoder');
  assert.equal(paper.idfermHngPixelWeight, PAPER_WEIGHTS.pixel);
  assert.equal(paper.idfermHngLearningRate, 2e-4);
  assert.equal(paper.idfermHngWarmupLearningRate, 2e-4);
});

test('symmetry loss is 0 for a mirror-symmetric image and positive otherwise', () => {
  tf.tidy(() => {
    const sym = tf.tensor4d([1, 2, 2, 1, 3, 0, 0, 3, 1, 1, 1, 1, 0, 5, 5, 0], [1, 4, 4, 1]);
    assert.ok(symmetryLoss(sym, 'pixel').dataSync()[0] === 0);
    assert.ok(symmetryLoss(sym, 'laplacian').dataSync()[0] < 1e-6);
    assert.ok(symmetryLoss(tf.tensor4d([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0], [1, 4, 4, 1]), 'pixel').dataSync()[0] > 0);
  });
});

test('samplers: class-balanced batches of 2 per class cover every sample; subject batches group a subject\'s expressions; sparse keeps k per subject', () => {
  const samples = Int32Array.from({ length: 30 }, (_, i) => i);
  const labels = Int32Array.from(samples, (i) => i % 3);
  const subjects = Array.from(samples, (i) => `s${Math.floor(i / 6)}`);
  const batches = classBalancedBatches(samples, labels, 1);
  assert.equal(batches.length, 5);
  for (const b of batches) assert.deepEqual([...b].map((s) => labels[s]).sort(), [0, 0, 1, 1, 2, 2]);
  assert.equal(new Set(batches.flatMap((b) => [...b])).size, 30);
  assert.deepEqual(classBalancedBatches(samples, labels, 1), batches);
  const sb = subjectBatches(samples, labels, subjects, 1, 6);
  for (const b of sb) assert.ok(new Set([...b].map((s) => subjects[s])).size <= 2);
  const kept = sparseKeep(samples, labels, subjects, 2, 1);
  for (const s of new Set(subjects)) assert.equal(new Set([...kept].filter((i) => subjects[i] === s).map((i) => labels[i])).size, 2);
});

test('every idferm variant a paper table links to is registered', () => {
  const m = getMethod('idferm');
  const missing = linkedVariants().filter((l) => l.method === 'idferm' && !m.variants[l.variant]).map((l) => l.variant);
  assert.deepEqual(missing, []);
});

test('8-class protocol: K = 2C batches with a neutral class; generated references enter the softmax as neutral only with genAsNeutral; no leak', async () => {
  const { idfermMethod } = await import('../lib/experiments/idferm');
  const { resolveRunConfig } = await import('../lib/experiments/settings');
  const { makeBatch, disposeBatch } = await import('../lib/train/batches');
  const { tinySet } = await import('./tiny-set');
  const { rng } = await import('../lib/data/random');
  const set = { ...tinySet({ size: 16 }), classes: ['neutral', 'anger', 'happy'] };
  const cfg = loadConfig({ FER_PROFILE: 'smoke' }, { idfermRmlWidth: 4 });
  const build = (options: Record<string, boolean>) => idfermMethod.build({
    config: resolveRunConfig(cfg, idfermMethod, 'idferm-8class', options), options: resolveRunConfig(cfg, idfermMethod, 'idferm-8class', options).options,
    data: { size: 16, channels: 1, classes: set.classes, hasNeutral: true }, fold: 0, seed: 1,
    prepared: { refs: set.neutral, subjects: set.subjects, identityNet: null, hngDir: null },
  }) as ReturnType<typeof idfermMethod.build> & { trainStep: Function };
  const samples = Int32Array.from(set.labels.keys());
  const m = await build({});
  const batches = m.batches!(samples, set.labels, 1, 0);
  assert.equal(batches[0].length, 6, 'K = 2C = 6');
  const step = (model: typeof m) => {
    const batch = makeBatch(set, batches[0], false);
    const r = model.trainStep(batch, { epoch: 1, totalEpochs: 1, pace: 1, step: 0, seed: 5, rng: rng(5, 'step') });
    const out = Object.fromEntries(Object.entries(r.losses).map(([k, v]) => [k, v.dataSync()[0]]));
    tf.dispose([...Object.values(r.losses), ...(r.logits ? [r.logits] : [])]);
    disposeBatch(batch);
    return out;
  };
  const withGen = step(m);
  const n0 = tf.memory().numTensors;
  step(m);
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked across steps');
  const without = step(await build({ genAsNeutral: false }));
  for (const v of [withGen, without]) for (const [k, x] of Object.entries(v)) assert.ok(Number.isFinite(x), `${k} = ${x}`);
  assert.equal(withGen.evals, 2, 'RML: 2 evaluations per query');
  assert.notEqual(withGen.ce, without.ce, 'genAsNeutral must add the references to the softmax');
  await assert.rejects(async () => idfermMethod.build({
    config: resolveRunConfig(cfg, idfermMethod, 'idferm-8class'), options: resolveRunConfig(cfg, idfermMethod, 'idferm-8class').options,
    data: { size: 16, channels: 1, classes: ['anger', 'happy', 'surprise'], hasNeutral: true }, fold: 0, seed: 1, prepared: { refs: set.neutral, subjects: set.subjects, identityNet: null, hngDir: null },
  }), /neutral/);
});

test('radial loss: a masked reference (neutral query) costs nothing wherever it lies', () => {
  const net = buildRmlNet(arch);
  tf.tidy(() => {
    const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
    const q = tf.tensor2d([[1, 0, 0, 0], [-1, 0, 0, 0], [0, 3, 0, 0], [0, 5, 0, 0]]); // class 0's centre is the origin
    const near = tf.tensor2d([[0, 0, 0, 0], [0, 0, 0, 0], [5, 5, 5, 5], [5, 5, 5, 5]]);
    const moved = tf.tensor2d([[9, 9, 9, 9], [0, 0, 0, 0], [5, 5, 5, 5], [5, 5, 5, 5]]);
    const mask = tf.tensor1d([0, 1, 1, 1]);
    const a = radialLoss(net.head, q, near, labels, 2, { mask }).loss.dataSync()[0];
    const b = radialLoss(net.head, q, moved, labels, 2, { mask }).loss.dataSync()[0];
    assert.ok(Math.abs(a - b) < 1e-6, `masked reference changed the loss: ${a} vs ${b}`);
    assert.notEqual(radialLoss(net.head, q, near, labels, 2).loss.dataSync()[0], radialLoss(net.head, q, moved, labels, 2).loss.dataSync()[0]);
  });
  Object.values(net).forEach((p) => p instanceof tf.LayersModel && p.dispose());
});

test('sweeps: λ and slope runs from the settings; λ = 1 and slope 0.1 are the idferm run itself', async () => {
  const { idfermSweepRuns } = await import('../lib/experiments/idferm');
  const { resolveRunConfig } = await import('../lib/experiments/settings');
  const { runIdFor } = await import('../lib/results/store');
  const m = getMethod('idferm');
  const cfg = loadConfig({ FER_PROFILE: 'smoke' }, { idfermLambdas: '0,1', idfermSlopes: '0.1,0.15' });
  const runs = idfermSweepRuns(cfg);
  assert.deepEqual(runs.map((r) => `${r.param}=${r.value}`), ['lambda=0', 'lambda=1', 'lreluSlope=0.1', 'lreluSlope=0.15']);
  const id = (o: Record<string, number>) => runIdFor(resolveRunConfig(cfg, m, 'idferm', o));
  assert.equal(id(runs[1].options), id({}));
  assert.equal(id(runs[2].options), id({}));
  assert.notEqual(id(runs[0].options), id({}));
  assert.throws(() => idfermSweepRuns(loadConfig({ FER_PROFILE: 'smoke' }, { idfermSlopes: '0.1,x' })), /idfermSlopes/);
});

test('verdicts come from the shared paired test; "at least matches within 0.5" fails only on a clear loss', async () => {
  const { idfermVerdicts } = await import('../lib/experiments/idferm-report');
  const summary = (variant: string, accs: number[]) =>
    ({ variant, accs, mean: accs.reduce((a, b) => a + b, 0) / accs.length, evalsPerQuery: 2 }) as never;
  const verdict = (idf: number[], nm: number[]) =>
    idfermVerdicts([summary('idferm', idf), summary('2bnm', nm)], [], 14).find((v) => v.claim.startsWith('IDFERM at least matches'))!.holds;
  assert.equal(verdict([15, 18, 12], [14, 14, 16]), 'unclear', 'mean +0.33, spread 2.5: shows nothing');
  assert.equal(verdict([60, 61, 62.5], [58, 59, 60]), 'yes');
  assert.equal(verdict([50, 51, 52], [55, 56, 57.5]), 'no');
  assert.equal(verdict([60, 61, 62], [60.1, 61.2, 62.1]), 'yes', '0.13 points worse on every fold: within the 0.5 allowed');
  assert.equal(verdict([60, 61, 63], [60, 61, 62]), 'unclear', 'a small gain is no loss, but not resolved either');
});

test('runSummary: under the learning-rate rule it reports each fold\'s best-validation epoch and that epoch\'s test accuracy; without it, null', () => {
  const rows = (bestEpoch: boolean) => [1, 2, 3].flatMap((epoch) => [0, 1].map((fold) => ({
    fold, epoch, test_acc: 0.1 * epoch + 0.01 * fold, n_train: 10, images_per_s: 10, ...(bestEpoch ? { best_epoch: fold === 0 ? 2 : Math.min(epoch, 1) } : {}),
  })));
  const run = (bestEpoch: boolean) => ({ config: { variant: 'idferm', data: { classes: ['a', 'b'] } }, results: new dfd.DataFrame(rows(bestEpoch)) }) as unknown as StoredRun;
  const on = runSummary(run(true));
  assert.deepEqual(on.bestValidation?.epochs, [2, 1]);
  assert.deepEqual(on.bestValidation?.accs.map((a) => Math.round(a * 10) / 10), [20, 11]);
  assert.deepEqual(on.accs.map((a) => Math.round(a * 10) / 10), [30, 31], 'the headline stays the last epoch');
  assert.equal(runSummary(run(false)).bestValidation, null);
});
