import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import type { Backbone } from '../lib/models/backbones';
import { neutralDisentangled, pairedForward, pairedNdf } from '../lib/models/paired';
import { buildSpndlNet } from '../lib/models/spndl';
import { getMethod } from '../lib/experiments/methods';
import { formatP, pairedDifference } from '../lib/analysis/paired';
import { paceAccuracySpec, trainLossSpec } from '../lib/figures/spndl';
import { specToSvg } from '../lib/figures/render';
import { claimVerdicts, exclusionRows, ndfEmbedding, paperComparison, MAIN_VARIANTS, runSpndlStudy, snapshotFile, spndlConfig, variantSummary } from '../lib/experiments/spndl-study';
import { frameRows } from '../lib/results/store';
import { linkedVariants } from '../lib/results/paper-tables';
import { tinyFolds, tinySet } from './tiny-set';

before(async () => { await initBackend(); });

/** A one-layer "backbone": BN then global average pooling, so the features are per-channel means of the normalised input. */
function bnOnly(c: number): Backbone {
  const input = tf.input({ shape: [3, 3, c] });
  const normed = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(input) as tf.SymbolicTensor;
  const features = tf.layers.globalAveragePooling2d({}).apply(normed) as tf.SymbolicTensor;
  return { name: 'lite-cnn', model: tf.model({ inputs: input, outputs: [features, normed] }), featureDim: c, mapNames: ['bn'] };
}

/** Eqs. 4–6 by hand (gamma 1, beta 0): statistics over the given images, then the mean over positions of the given rows. */
function manualBn(x: number[][][][], statsOf: number[], rows: number[], c: number): number[][] {
  const vals = (ch: number) => statsOf.flatMap((i) => x[i].flat().map((p) => p[ch]));
  const mu = Array.from({ length: c }, (_, ch) => vals(ch).reduce((a, b) => a + b, 0) / vals(ch).length);
  const v = Array.from({ length: c }, (_, ch) => vals(ch).reduce((a, b) => a + (b - mu[ch]) ** 2, 0) / vals(ch).length); // biased, 1/(2m·h·w)
  return rows.map((i) => Array.from({ length: c }, (_, ch) => {
    const ps = x[i].flat().map((p) => (p[ch] - mu[ch]) / Math.sqrt(v[ch] + 1e-5));
    return ps.reduce((a, b) => a + b, 0) / ps.length;
  }));
}

const close = (a: number[][], b: number[][], tol = 1e-4) => a.forEach((r, i) => r.forEach((x, j) => assert.ok(Math.abs(x - b[i][j]) < tol, `[${i}][${j}] ${x} vs ${b[i][j]}`)));

test('pair normalisation: one set of BN statistics over target and reference together (Eqs. 4–6); separate uses each half', () => {
  const m = 2, c = 2, b = bnOnly(c);
  const t = tf.randomNormal([m, 3, 3, c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const r = tf.randomNormal([m, 3, 3, c], 2, 3, 'float32', 2) as tf.Tensor4D; // other scale: joint != separate
  const all = tf.concat([t, r]).arraySync() as number[][][][];
  const joint = tf.tidy(() => { const f = pairedForward(b, t, r, true); return [f.target.arraySync(), f.reference.arraySync()] as number[][][]; });
  close(joint[0], manualBn(all, [0, 1, 2, 3], [0, 1], c));
  close(joint[1], manualBn(all, [0, 1, 2, 3], [2, 3], c));
  const sep = tf.tidy(() => { const f = pairedForward(b, t, r, true, { pairNorm: 'separate' }); return [f.target.arraySync(), f.reference.arraySync()] as number[][][]; });
  close(sep[0], manualBn(all, [0, 1], [0, 1], c));
  close(sep[1], manualBn(all, [2, 3], [2, 3], c));
  const ndf = tf.tidy(() => pairedNdf(b, t, r, true).ndf.arraySync());
  close(ndf, joint[0].map((row, i) => row.map((x, j) => x - joint[1][i][j])));
  assert.throws(() => pairedForward(b, t, tf.zeros([1, 3, 3, c]) as tf.Tensor4D, true), /does not match the target batch/);
  assert.throws(() => neutralDisentangled(tf.zeros([2, 3]), tf.zeros([2, 4])), /differ in shape/);
  tf.dispose([t, r]);
  b.model.dispose();
});

test('NDF is exactly 0 when the reference is the target, in training and eval mode', () => {
  const net = buildSpndlNet({ feature: 'ndf', backbone: 'lite-cnn', inputShape: [16, 16, 1], width: 4, numClasses: 3, seed: 3 });
  const x = tf.randomUniform([4, 16, 16, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
  for (const training of [true, false]) {
    const max = tf.tidy(() => net.features({ target: x, neutral: x }, training).ndf.abs().max().dataSync()[0]);
    assert.equal(max, 0, `training=${training}`);
  }
  assert.throws(() => net.logits({ target: x, neutral: null }, false), /needs each target's neutral reference/);
  x.dispose();
  Object.values(net.parts).forEach((p) => p.dispose());
});

test('w/o neutral image: E and N start equal (NDF 0), both train on the difference, and the moving statistics update', async () => {
  const set = tinySet();
  const config = loadConfig({ FER_PROFILE: 'smoke' }, { batchSize: 8, backboneWidth: 4 });
  const method = getMethod('spndl');
  const options = { ...Object.fromEntries(Object.entries(method.options).map(([k, o]) => [k, o.default])), ...method.variants['spndl-won'].options, augment: false };
  const model = await method.build({ config: { ...config, method: 'spndl', variant: 'spndl-won', options, totalEpochs: 1, spl: null, paceEpochs: [1] }, options,
    data: { size: 16, channels: 1, classes: set.classes, hasNeutral: true }, fold: 0, seed: 5, prepared: undefined });
  const { makeBatch, disposeBatch } = await import('../lib/train/batches');
  const batch = makeBatch(set, Int32Array.from([0, 5, 9, 14, 20, 27, 30, 33]), false);
  const ndf0 = tf.tidy(() => model.features!(batch).ndf.abs().max().dataSync()[0]);
  assert.equal(ndf0, 0, 'same starting weights');
  const snap = (name: string) => model.parts[name].weights.map((w) => w.read().dataSync().slice());
  const [e0, n0] = [snap('expression'), snap('neutral')];
  let before = 0;
  for (let step = 0; step < 3; step++) {
    const res = model.trainStep(batch, { epoch: 1, totalEpochs: 1, pace: 1, step, seed: step, rng: Math.random });
    assert.ok(Number.isFinite(res.losses.loss.dataSync()[0]));
    tf.dispose([res.losses.loss, res.logits!]);
    if (step === 0) before = tf.memory().numTensors; // after Adam made its moment variables
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leak across steps');
  const changed = (a: Float32Array[], b: Float32Array[]) => a.some((w, i) => w.some((v, j) => v !== b[i][j]));
  assert.ok(changed(e0, snap('expression')) && changed(n0, snap('neutral')), 'both E and N are fine-tuned');
  const movingMean = model.parts.expression.weights.find((w) => w.originalName.includes('moving_mean'))!;
  assert.ok(movingMean.read().dataSync().some((v) => v !== 0), 'BN moving statistics updated in training mode');
  assert.ok(tf.tidy(() => model.features!(batch).ndf.abs().max().dataSync()[0]) > 0, 'E and N have diverged');
  disposeBatch(batch);
  Object.values(model.parts).forEach((p) => p.dispose());
  Object.values(model.optimizers).forEach((o) => o.dispose());
});

test('the registered variants are the ones the paper tables link to', () => {
  const variants = Object.keys(getMethod('spndl').variants);
  for (const l of linkedVariants().filter((l) => l.method === 'spndl')) assert.ok(variants.includes(l.variant), l.variant);
  assert.equal(getMethod('spndl').inputs({ feature: 'ndf' }).train, 'pair');
  assert.equal(getMethod('spndl').inputs({ feature: 'won' }).train, 'target');
});

test('profiles: the paper profile follows the paper protocol; a pace list that does not match splRho is an error', () => {
  const paper = spndlConfig(loadConfig({ FER_PROFILE: 'paper' }));
  assert.equal(paper.folds, 10);
  assert.equal(paper.imageSize, 224);
  assert.equal(paper.epochs, 250);
  assert.equal(paper.splPaceEpochs, '30,30,30,30,30,100');
  assert.throws(() => spndlConfig(loadConfig({ FER_PROFILE: 'smoke', FER_SPNDL_PACE_EPOCHS: '1,1' })), /spndlPaceEpochs='1,1' must give one epoch count per pace/);
});

test('a tiny study: class-wise SPL selects ceil(rho·n_k) per class and all at the last pace, keeps pace snapshots, is deterministic, and its tables compute', async () => {
  const set = tinySet();
  const foldOf = tinyFolds(set, 2);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spndl-'));
  const config = spndlConfig(loadConfig({ FER_PROFILE: 'smoke' }, { batchSize: 8, spndlBackboneWidth: 4, spndlImageSize: 16 }));
  const runs = await runSpndlStudy(config, set, { variants: ['baseline', 'spndl'], resultsDir: root, snapshotFold: 0 });
  void foldOf; // the study uses the runner's subject folds
  const spl = frameRows(runs.spndl.spl!);
  const rho = [0.5, 0.6, 0.7, 0.8, 0.9, 1];
  for (const fold of [0, 1]) {
    for (let pace = 1; pace <= 6; pace++) {
      const rows = spl.filter((r) => r.fold === fold && r.pace === pace);
      for (let k = 0; k < set.classes.length; k++) {
        const mine = rows.filter((r) => r.label === k);
        const kept = mine.filter((r) => r.selected === 1);
        assert.equal(kept.length, Math.max(1, Math.ceil(rho[pace - 1] * mine.length - 1e-9)), `fold ${fold} pace ${pace} class ${k}`);
        if (kept.length < mine.length) assert.ok(Math.max(...kept.map((r) => r.loss as number)) <= Math.min(...mine.filter((r) => r.selected === 0).map((r) => r.loss as number)), 'lowest losses kept');
      }
    }
  }
  for (const p of [1, 4]) assert.ok(fs.existsSync(snapshotFile(runs.spndl.dir, 0, p)), `snapshot after pace ${p}`);
  const tensors = frameRows(runs.spndl.results).filter((r) => r.fold === 1).map((r) => r.tensors as number);
  assert.equal(new Set(tensors.slice(1)).size, 1, `live tensors flat across epochs: ${tensors}`);

  const again = await runSpndlStudy(config, set, { variants: ['spndl'], resultsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'spndl-')) });
  const strip = (rows: ReturnType<typeof frameRows>) => rows.map(({ images_per_s: _s, run: _r, ...rest }) => rest);
  assert.deepEqual(strip(frameRows(again.spndl.results)), strip(frameRows(runs.spndl.results)), 'same seed, same numbers');

  const summary = variantSummary(runs);
  assert.equal(summary.length, 2);
  assert.equal(summary[1]['test samples'], set.labels.length);
  const self = pairedDifference(runs.spndl, runs.spndl);
  assert.deepEqual([self.mean, self.std, self.n, self.wins, self.ties, self.verdict], [0, 0, 2, 0, 2, 'no'], 'itself: no gain');
  const verdicts = claimVerdicts(runs, set);
  const beats = verdicts.find((v) => /SPNDL beats the baseline/.test(String(v.claim)))!;
  const d = pairedDifference(runs.spndl, runs.baseline);
  assert.deepEqual([beats.holds, beats.p], [d.verdict, formatP(d.p)], 'verdict and p of the shared paired test');
  assert.ok(verdicts.every((v) => ['yes', 'no', 'unclear'].includes(String(v.holds)) && typeof v.p === 'string'));
  const cmp = paperComparison('spndl.table4', runs, config);
  assert.ok(cmp.some((c) => c.variant === 'spndl' && c.paperValue === 99.69 && c.sameData === false));
  assert.equal(exclusionRows(runs.spndl, set).find((r) => r.fold === 0 && r.pace === 6)!.excluded, 0);
  const emb = await ndfEmbedding(runs.spndl, set, 0, 1);
  assert.deepEqual([...new Set(emb.points.map((p) => p.pace))], ['start of pace 2', 'start of pace 5']);
  assert.ok(emb.points.every((p) => Number.isFinite(p.x as number) && Number.isFinite(p.y as number)));
  fs.rmSync(root, { recursive: true });
});

test('Figs. 5 and 6 dash the runs with SPL, and their legend draws each dash as a line, not a dot', async () => {
  const rows = ['with SPL', 'without SPL'].flatMap((spl) => [1, 2].map((pace) => ({
    variant: spl === 'with SPL' ? 'SPNDL' : 'NDF only', spl, fold: 0, pace, epoch: pace, test_acc: 20 + pace, train_loss: 1 / pace,
  })));
  for (const spec of [paceAccuracySpec(rows), trainLossSpec(rows, [1, 1])]) {
    const svg = await specToSvg(spec);
    const symbol = /role-legend-symbol"[^>]*><path[^>]*d="([^"]*)"[^>]*stroke-dasharray="([^"]*)"[^>]*>[\s\S]*?<text[^>]*>([^<]*)</g;
    const legend = [...svg.matchAll(symbol)].map((m) => ({ path: m[1], dash: m[2], label: m[3] }));
    assert.deepEqual(legend.map((l) => [l.label, l.dash]), [['without SPL', '1,0'], ['with SPL', '6,3']]);
    assert.ok(legend.every((l) => /^M-?[\d.]+,0L[\d.]+,0$/.test(l.path) && !l.path.includes('A')), 'a horizontal stroke, not a circle');
    const lines = [...svg.matchAll(/mark-line[\s\S]*?<\/g>/g)].map((m) => m[0]);
    assert.ok(lines.some((l) => l.includes('stroke-dasharray="6,3"')), 'the SPL line itself is dashed');
  }
});

test("variants outside npm start's matrix train only for the study and are shown once stored", async () => {
  const set = tinySet({ subjects: 4, perClass: 1 });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'spndl-study-'));
  const small = { batchSize: 8, spndlBackboneWidth: 4, spndlImageSize: 16, spndlPaceEpochs: '1,1,1,1,1,1' };
  const base = loadConfig({ FER_PROFILE: 'smoke' }, small);
  const variants = ['baseline', 'spndl-won'];
  assert.ok(!MAIN_VARIANTS.includes('spndl-won'));
  const quick = await runSpndlStudy(spndlConfig(base), set, { variants, resultsDir: root });
  assert.deepEqual(Object.keys(quick), ['baseline'], 'without the study only the main matrix trains');
  const study = await runSpndlStudy(spndlConfig(loadConfig({ FER_PROFILE: 'smoke' }, { ...small, study: true })), set, { variants, resultsDir: root });
  assert.deepEqual(Object.keys(study).sort(), variants);
  assert.equal(study.baseline.cached, true);
  const later = await runSpndlStudy(spndlConfig(base), set, { variants, resultsDir: root });
  assert.deepEqual(Object.keys(later).sort(), variants, 'a stored study run is shown');
  assert.ok(Object.values(later).every((r) => r.cached), 'nothing trains again');
  fs.rmSync(root, { recursive: true });
});

test("notebook 02's lite runs use the shared default set and the lite protocol: 60 subjects, 5 folds", () => {
  const lite = loadConfig({ FER_PROFILE: 'lite' });
  const cfg = spndlConfig(lite);
  for (const k of ['subjects', 'imageSize', 'folds', 'epochs', 'synferLabelNoise', 'synferCorrupt'] as const) assert.equal(cfg[k], lite[k], k);
  assert.ok(cfg.subjects >= 60 && cfg.folds >= 5);
});
