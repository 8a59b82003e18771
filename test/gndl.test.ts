/**
 * GNDL mechanics (paper §3; the checks are ours): the NFG's
 * NN×2 and size, L_neu's reductions, stop-gradients, that λ = 0 leaves the
 * NFG untouched when nothing else trains it, that test predictions never
 * read the neutral image, that L_neu falls on a tiny set, no tensor leak,
 * and determinism.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { gndlMethod } from '../lib/experiments/gndl';
import type { Batch, MethodModel, OptionValue } from '../lib/train/run-types';
import { runExperiment } from '../lib/experiments/runner';
import { resolveRunConfig } from '../lib/experiments/settings';
import { buildNfg, DEFAULT_NFG, nearestUpsample2x, neutralLoss, nfgLayerRows, stopGradient } from '../lib/models/gndl';
import { paperTable } from '../lib/results/paper-tables';
import { linkedVariants } from '../lib/results/paper-tables';
import { frameRows, type StoredRun } from '../lib/results/store';
import { hardSampleGrid, hardSamples } from '../lib/figures/gndl';
import { pairedDifference } from '../lib/analysis/paired';
import { claimVerdicts, confoundGainDifferences, gndlRunOf } from '../lib/experiments/gndl-study';
import type { FerSet } from '../lib/data/dataset';
import * as dfd from 'danfojs-node';
import { disposeBatch, makeBatch } from '../lib/train/batches';
import { rng } from '../lib/data/random';
import { dataInfo, disposeModel } from '../lib/train/trainer';
import { tinyFolds, tinySet } from './tiny-set';

before(async () => { await initBackend(); });

const set = tinySet();
const config = (o: Record<string, string | number | boolean> = {}) => loadConfig({ FER_PROFILE: 'smoke' }, { epochs: 2, batchSize: 8, folds: 2, ...o });
const allSamples = Int32Array.from(set.labels.keys());

function build(variant: string, options: Record<string, OptionValue> = {}): MethodModel {
  const rc = resolveRunConfig(config(), gndlMethod, variant, options);
  return gndlMethod.build({ config: rc, options: rc.options, data: dataInfo(set), fold: 0, seed: 7, prepared: undefined }) as MethodModel;
}
const step = (m: MethodModel, b: Batch, i = 0) => {
  const r = m.trainStep(b, { epoch: 1, totalEpochs: 1, pace: 1, step: i, seed: i, rng: rng(1, 'step', i) });
  tf.dispose([...Object.values(r.losses), ...(r.logits ? [r.logits] : [])]);
};
const weights = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

test('NN×2 repeats every entry in place, and the NFG layer does the same', () => {
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(nearestUpsample2x(x).arraySync(), [[1, 1, 2, 2, 3, 3], [4, 4, 5, 5, 6, 6]]);
  const nfg = buildNfg({ ...DEFAULT_NFG, inputDim: 8, seed: 1 });
  const enc = tf.model({ inputs: nfg.inputs, outputs: nfg.getLayer('nfg.enc.act').output as tf.SymbolicTensor });
  const up = tf.model({ inputs: nfg.inputs, outputs: nfg.getLayer('nfg.up.flatten').output as tf.SymbolicTensor });
  const f = tf.randomUniform([3, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
  assert.deepEqual(up.predict(f).toString(), nearestUpsample2x(enc.predict(f) as tf.Tensor2D).toString());
  tf.dispose([x, f]);
  nfg.dispose();
});

test('the NFG maps [B, d] to [B, d] with the paper-size parameter count at d = 512', () => {
  const nfg = buildNfg({ ...DEFAULT_NFG, inputDim: 512, seed: 1 });
  assert.deepEqual(nfg.outputs[0].shape, [null, 512]);
  assert.equal(nfg.countParams(), 131_328 + 262_656 + 262_656, 'our NFG layout at d = 512 (GNDL Sec. 3.3, Fig. 5): about 0.66 M parameters');
  const kinds = nfgLayerRows(nfg).map((r) => r.kind);
  assert.equal(kinds.filter((k) => k === 'Dense').length, 3);
  assert.equal(nfg.layers.filter((l) => l.getClassName() === 'LeakyReLU').every((l) => (l.getConfig().alpha as number) === 0.2), true, 'slope 0.2, never the tfjs default 0.3');
  nfg.dispose();
  assert.throws(() => buildNfg({ ...DEFAULT_NFG, inputDim: 7, seed: 1 }), /inputDim 7/);
});

test('L_neu: mean, sum over dims and sum differ by the expected factors', () => {
  const a = tf.tensor2d([[1, 2, 3, 4], [0, 0, 0, 0]]), b = tf.zeros([2, 4]) as tf.Tensor2D;
  assert.equal(neutralLoss(a, b).dataSync()[0], 10 / 8);
  assert.equal(neutralLoss(a, b, 'l1', 'sum-over-dims').dataSync()[0], 10 / 2);
  assert.equal(neutralLoss(a, b, 'l1', 'sum').dataSync()[0], 10);
  assert.equal(neutralLoss(a, b, 'l2').dataSync()[0], 30 / 8);
  tf.dispose([a, b]);
});

test('GNDL claims: claim 1 takes the shared paired test; claim 5 pairs the high − low confound gain per fold', () => {
  // 2 folds, each with one high- and one low-confound subject of 4 test faces; GNDL gains on the high one in both folds
  const subjects = ['h0', 'l0', 'h1', 'l1'];
  const set = {
    subjects: subjects.flatMap((s) => Array(4).fill(s)),
    rows: subjects.flatMap((s) => Array(4).fill({ confound: s[0] === 'h' ? 2 : 0 })),
  } as unknown as FerSet;
  const run = (variant: string, right: (subject: string, i: number) => boolean) => {
    const preds = set.subjects.map((subject, sample) =>
      ({ fold: Number(subject[1]), sample, subject, label: 0, prediction: right(subject, sample % 4) ? 0 : 1 }));
    const acc = [0, 1].map((fold) => preds.filter((p) => p.fold === fold && p.prediction === 0).length / 8);
    return {
      runId: variant, config: { seed: 1, variant, options: {} }, predictions: new dfd.DataFrame(preds),
      results: new dfd.DataFrame(acc.map((test_acc, fold) => ({ fold, epoch: 1, test_acc }))),
    } as unknown as StoredRun;
  };
  const baseline = run('baseline', (_, i) => i < 2);
  const gndl = run('gndl', (s, i) => (s[0] === 'h' ? i < 3 + Number(s[1]) : i < 2));
  assert.deepEqual(confoundGainDifferences(baseline, gndl, set), [25, 50], 'high-confound gain minus low-confound gain, points');
  const claims = claimVerdicts({ baseline, gndl }, null, set);
  const c1 = claims.find((c) => String(c.claim).startsWith('1.'))!, c5 = claims.find((c) => String(c.claim).startsWith('5.'))!;
  assert.equal(c1.holds, pairedDifference(gndl, baseline).verdict);
  assert.match(String(c1.ours), /^\+18\.8 ± 8\.8 pts \(2\/2 folds better, p = 0\.205\); McNemar b01 3 vs b10 0$/);
  assert.equal(c5.holds, 'unclear', 'two folds of +25 and +50: no significance on one degree of freedom');
  assert.match(String(c5.ours), /^high − low gain per fold \+37\.5 ± 17\.7 pts \(2\/2 folds better/);
});

test('stopGradient passes values and blocks gradients', () => {
  const x = tf.tensor1d([1, 2, 3]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(stopGradient(v), v)))(x); // d/dv (c·v) = c = v
  assert.deepEqual(Array.from(g.dataSync()), [1, 2, 3]);
  tf.dispose([x, g]);
});

test('variants: the ones Table 1 links exist, and impossible combinations are errors', () => {
  for (const l of linkedVariants().filter((v) => v.method === 'gndl')) assert.ok(gndlMethod.variants[l.variant], `${l.variant} is linked by ${l.tables}`);
  assert.deepEqual(gndlMethod.inputs(resolveRunConfig(config(), gndlMethod, 'gndl').options), { train: 'pair', test: 'target' });
  assert.deepEqual(gndlMethod.inputs(resolveRunConfig(config(), gndlMethod, 'gndl', { trainSubtract: 'real', testSubtract: 'real' }).options), { train: 'pair', test: 'pair' });
  assert.throws(() => build('gndl', { pairs: 'none' }), /pairs='none'/);
  // the baseline and the real-neutral oracle of notebook 03 are the shared baseline's and SPNDL's NDF runs
  assert.deepEqual([gndlRunOf('baseline'), gndlRunOf('oracle-ndf'), gndlRunOf('gndl')],
    [{ method: 'baseline', variant: 'plain' }, { method: 'spndl', variant: 'ndf' }, { method: 'gndl', variant: 'gndl' }]);
  assert.throws(() => build('no-nfg', { testSubtract: 'generated' }), /nfg=false/);
});

test('the stored Table 1 gives the gains GNDL − baseline of the printed Table 1 (+2.14 / +2.50 / +3.90)', () => {
  const t = paperTable('gndl.table1');
  const row = (m: string) => t.rows.find((r) => r.label === m)!.values;
  const g = row('GNDL'), b = row('Baseline (ResNet-18)');
  assert.deepEqual(['ckplus', 'oulu', 'mmi'].map((k) => Number(((g[k] as number) - (b[k] as number)).toFixed(2))), [2.14, 2.5, 3.9]);
});

test('test-time predictions never read the neutral image', () => {
  const m = build('gndl');
  const idx = allSamples.subarray(0, 8);
  const paired = makeBatch(set, idx, true);
  const targetOnly = makeBatch(set, idx, false);
  const noise = { ...paired, neutral: tf.randomUniform(paired.neutral!.shape, 0, 1, 'float32', 5) as tf.Tensor4D };
  const p = [paired, targetOnly, noise].map((b) => { const l = m.predict(b); const v = Array.from(l.dataSync()); l.dispose(); return v; });
  assert.deepEqual(p[1], p[0]);
  assert.deepEqual(p[2], p[0]);
  const f = m.features!(paired);
  assert.deepEqual(Object.keys(f).sort(), ['exam', 'generated', 'neutral', 'v_gen', 'v_real']);
  assert.deepEqual(f.v_gen.shape, f.exam.shape);
  tf.dispose([...Object.values(f), noise.neutral]);
  disposeBatch(paired); disposeBatch(targetOnly);
  disposeModel(m);
});

test('λ = 0 leaves the NFG untouched when the classifier does not read it; λ > 0 trains it', () => {
  const batch = makeBatch(set, allSamples.subarray(0, 8), true);
  const nfgAfter = (lambda: number) => {
    const m = build('aux-no-subtract', { lambda, augment: false });
    const before = weights(m.parts.nfg);
    step(m, batch);
    const changed = weights(m.parts.nfg).some((w, i) => w.some((v, j) => v !== before[i][j]));
    disposeModel(m);
    return changed;
  };
  assert.equal(nfgAfter(0), false);
  assert.equal(nfgAfter(5), true);
  disposeBatch(batch);
});

test('with both stop-gradients L_neu sends nothing into the backbone (separate BN); without them it does', () => {
  const batch = makeBatch(set, allSamples.subarray(0, 8), true);
  const backboneAfter = (opts: Record<string, OptionValue>) => {
    const m = build('aux-no-subtract', { pairs: 'separate', augment: false, ...opts });
    step(m, batch);
    const w = weights(m.parts.backbone);
    disposeModel(m);
    return JSON.stringify(w);
  };
  const clsOnly = backboneAfter({ lambda: 0 });
  assert.equal(backboneAfter({ lambda: 5, neuTargetStopGrad: true, nfgInputStopGrad: true }), clsOnly);
  assert.notEqual(backboneAfter({ lambda: 5, neuTargetStopGrad: true }), clsOnly, 'gradient through the NFG input');
  assert.notEqual(backboneAfter({ lambda: 5, nfgInputStopGrad: true }), clsOnly, 'gradient through the real neutral features');
  disposeBatch(batch);
});

test('no-neutral-in-batch: the neutral images neither shape the BN statistics nor pass L_neu gradient into the backbone; with joint BN they do', () => {
  const batch = makeBatch(set, allSamples.subarray(0, 8), true);
  const noise = { ...batch, neutral: tf.randomUniform(batch.neutral!.shape, 0, 1, 'float32', 5) as tf.Tensor4D };
  // BN moving statistics are the backbone's non-trainable weights
  const movingStats = (m: MethodModel) => JSON.stringify(m.parts.backbone.nonTrainableWeights.map((w) => Array.from(w.read().dataSync())));
  const statsAfter = (variant: string, b: Batch) => {
    const m = build(variant, { augment: false });
    step(m, b);
    const s = movingStats(m);
    disposeModel(m);
    return s;
  };
  assert.equal(statsAfter('no-neutral-in-batch', noise), statsAfter('no-neutral-in-batch', batch), 'neutral images out of the BN statistics');
  assert.notEqual(statsAfter('gndl', noise), statsAfter('gndl', batch), 'joint BN reads the neutral images');
  const backboneAfter = (opts: Record<string, OptionValue>) => {
    const m = build('no-neutral-in-batch', { augment: false, trainSubtract: 'none', testSubtract: 'none', ...opts });
    step(m, batch);
    const w = JSON.stringify(weights(m.parts.backbone));
    disposeModel(m);
    return w;
  };
  assert.equal(backboneAfter({ lambda: 5, nfgInputStopGrad: true }), backboneAfter({ lambda: 0 }), 'no gradient through the L_neu targets');
  tf.dispose(noise.neutral);
  disposeBatch(batch);
});

test('training steps leak no tensors', () => {
  const m = build('gndl');
  const batch = makeBatch(set, allSamples.subarray(0, 8), true);
  step(m, batch, 0);
  const n = tf.memory().numTensors;
  for (let i = 1; i < 4; i++) step(m, batch, i);
  assert.equal(tf.memory().numTensors, n);
  disposeBatch(batch);
  disposeModel(m);
});

test('on a tiny set L_neu falls over training, and the same seed gives the same numbers', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-gndl-'));
  const run = (resultsDir: string) => runExperiment({
    config: config({ epochs: 4 }), method: 'gndl', variant: 'gndl', set, foldOf: tinyFolds(set, 2), resultsDir, progress: null,
  });
  const a = await run(path.join(root, 'a'));
  const rows = frameRows(a.results).filter((r) => r.fold === 0);
  assert.ok((rows[3].loss_neu as number) < (rows[0].loss_neu as number), `L_neu ${rows.map((r) => r.loss_neu)}`);
  assert.ok(rows.every((r) => Number.isFinite(r.loss_cls as number)));
  const b = await run(path.join(root, 'b'));
  const strip = (x: typeof a) => frameRows(x.results).map(({ images_per_s: _s, run: _r, ...rest }) => rest);
  assert.deepEqual(strip(b), strip(a));
  fs.rmSync(root, { recursive: true });
});

test('Fig. 9 hard samples: baseline wrong and GNDL right on the same fold, one per subject, most confident first; a grid row each', async () => {
  const run = (runId: string, rows: [number, number, string, number, number, number][]) => ({
    runId, predictions: new dfd.DataFrame(rows.map(([fold, sample, subject, label, prediction, loss]) => ({ fold, sample, subject, label, prediction, loss }))),
  }) as unknown as StoredRun;
  const classes = ['anger', 'happy', 'sad'];
  const base = run('b', [[0, 0, 's1', 0, 1, 2], [0, 1, 's1', 1, 2, 2], [1, 2, 's2', 2, 0, 2], [1, 3, 's2', 0, 0, 1], [1, 4, 's3', 1, 0, 2]]);
  const gndl = run('g', [[0, 0, 's1', 0, 0, 0.5], [0, 1, 's1', 1, 1, 0.1], [1, 2, 's2', 2, 2, 0.9], [1, 3, 's2', 0, 1, 3], [1, 4, 's3', 1, 2, 3]]);
  const hard = hardSamples(base, gndl, classes);
  assert.deepEqual(hard.map((h) => [h.sample, h.truth, h.baseline, h.gndl]), [[1, 'happy', 'sad', 'happy'], [2, 'sad', 'anger', 'sad']]);
  assert.ok(Math.abs(hard[0].pGndl - Math.exp(-0.1)) < 1e-9);
  assert.throws(() => hardSamples(run('b2', [[0, 0, 's1', 0, 1, 2]]), gndl, classes), /sample 0:1 of g is not in b2/);
  const png = await hardSampleGrid(set, hard.map((h) => ({ ...h, sample: h.sample % set.labels.length })));
  assert.ok(png.length > 100 && png.subarray(1, 4).toString() === 'PNG');
  await assert.rejects(hardSampleGrid(set, []), /no sample/);
});
