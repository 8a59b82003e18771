/**
 * Notebook 06's library: the paired t-test against closed forms and t-table
 * values, the identity-leakage probe on toy features that do / do not encode
 * identity, every method's configuration sharing the data, folds and budget,
 * a tiny controlled comparison on shared folds, computed verdicts, the
 * face-api reference's mapping and errors, and the figure specs.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { identityLeakage, identitySplit, principalProjection } from '../lib/analysis/leakage';
import { formatP, pairedTest } from '../lib/analysis/paired';
import { pairedTTest, regularizedIncompleteBeta, studentTCdf, studentTTwoSided } from '../lib/analysis/t-test';
import {
  COMPARISON_METHODS, mainScale, methodConfig, parseMethods, referencePoint, runComparison, sharedConfig,
} from '../lib/experiments/comparison/plan';
import { type MethodResult, methodResults, resultRows, setupRows } from '../lib/experiments/comparison/rows';
import { analyseModels } from '../lib/experiments/comparison/leakage';
import { comparisonVerdicts } from '../lib/experiments/comparison/verdicts';
import { accuracyByMethodSpec, factorCurvesSpec, leakageSpec } from '../lib/figures/comparison';
import { specToSvg } from '../lib/figures/render';
import { faceApiIndexOf, loadFaceApiExpression, scoreFaceApi } from '../lib/models/face-api-expression';
import { resultsIndex } from '../lib/experiments/index-report';
import { readCsvRows, RUN_FILES } from '../lib/results/store';
import { tinySet } from './tiny-set';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-comparison-'));
before(async () => { await initBackend(); });
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('Student t tail probabilities match closed forms and t-table values', () => {
  for (const t of [0.3, 1, 2.5, 12.706, 80]) {
    assert.ok(Math.abs(studentTTwoSided(t, 1) - (1 - (2 * Math.atan(t)) / Math.PI)) < 1e-12, `df 1 (Cauchy), t ${t}`);
    assert.ok(Math.abs(studentTTwoSided(t, 2) - (1 - t / Math.sqrt(2 + t * t))) < 1e-12, `df 2, t ${t}`);
  }
  // two-sided critical values of printed t tables (3 decimals)
  for (const [t, df, p] of [[2.571, 5, 0.05], [3.169, 10, 0.01], [2.042, 30, 0.05], [2.776, 4, 0.05], [5.841, 3, 0.01], [1.960, 1e6, 0.05]]) {
    assert.ok(Math.abs(studentTTwoSided(t, df) - p) < 2e-4, `t ${t}, df ${df}: ${studentTTwoSided(t, df)}`);
  }
  assert.equal(studentTTwoSided(0, 4), 1);
  assert.ok(Math.abs(studentTCdf(-2.571, 5) - 0.025) < 1e-4 && Math.abs(studentTCdf(2.571, 5) - 0.975) < 1e-4);
  // I_x(a, b) for integers is a binomial tail: I_0.3(2, 3) = P(Bin(4, 0.3) ≥ 2)
  assert.ok(Math.abs(regularizedIncompleteBeta(0.3, 2, 3) - (1 - 0.7 ** 4 - 4 * 0.3 * 0.7 ** 3)) < 1e-12);
  assert.ok(Math.abs(regularizedIncompleteBeta(0.9, 2, 3) - (1 - 0.1 ** 4 - 4 * 0.9 * 0.1 ** 3)) < 1e-12, 'the symmetric branch');
  assert.throws(() => regularizedIncompleteBeta(1.5, 1, 1), /x=1.5/);
  assert.throws(() => studentTTwoSided(1, 0), /df=0/);
});

test('the paired t-test: t = mean / (sd / √n) with n − 1 degrees of freedom, and its edge cases', () => {
  const r = pairedTTest([1, 2, 3]);
  assert.equal(r.df, 2);
  assert.ok(Math.abs(r.t - 2 * Math.sqrt(3)) < 1e-12);
  assert.ok(Math.abs(r.p - (1 - r.t / Math.sqrt(2 + r.t * r.t))) < 1e-12);
  assert.deepEqual([pairedTTest([2, 2, 2]).t, pairedTTest([2, 2, 2]).p], [Infinity, 0]);
  assert.deepEqual([pairedTTest([0, 0]).t, pairedTTest([0, 0]).p], [0, 1]);
  assert.ok(Number.isNaN(pairedTTest([1]).p), 'one pair: no test');
  assert.equal(pairedTTest([-1, -2, -3]).p, r.p, 'two-sided');
});

/** 6 subjects × 4 expressions × 3 frames; features encode the subject, the expression, or both. */
function toyFeatures(kind: 'identity' | 'expression', seed = 1) {
  const subjects: string[] = [], labels: number[] = [];
  for (let s = 0; s < 6; s++) for (let e = 0; e < 4; e++) for (let f = 0; f < 3; f++) { subjects.push(`S${s}`); labels.push(e); }
  let x = seed;
  const noise = () => ((x = (x * 16807) % 2147483647) / 2147483647 - 0.5) * 0.4;
  const dim = 10;
  const features = new Float32Array(subjects.length * dim);
  subjects.forEach((s, i) => {
    const hot = kind === 'identity' ? Number(s.slice(1)) : labels[i];
    for (let d = 0; d < dim; d++) features[i * dim + d] = (d === hot ? 1 : 0) + noise();
  });
  return { subjects, labels, features, dim, samples: Int32Array.from(subjects.keys()) };
}

test('identitySplit fits the probe on some expressions of each subject and tests it on the others', () => {
  const t = toyFeatures('identity');
  const split = identitySplit(t.samples, t.subjects, t.labels, 3);
  assert.deepEqual(split.subjects, ['S0', 'S1', 'S2', 'S3', 'S4', 'S5']);
  assert.equal(split.train.length + split.test.length, t.samples.length);
  for (const s of split.subjects) {
    const tr = new Set(Array.from(split.train).filter((i) => t.subjects[i] === s).map((i) => t.labels[i]));
    const te = new Set(Array.from(split.test).filter((i) => t.subjects[i] === s).map((i) => t.labels[i]));
    assert.ok(tr.size === 2 && te.size === 2 && [...tr].every((l) => !te.has(l)), `${s}: expressions ${[...tr]} | ${[...te]}`);
  }
  assert.deepEqual(identitySplit(t.samples, t.subjects, t.labels, 3), split, 'seeded');
  assert.throws(() => identitySplit(t.samples.subarray(0, 12), t.subjects, t.labels, 1), /1 subject\(s\)/);
});

test('the leakage probe recovers identity from features that encode it, and not from expression-only features', async () => {
  const before = tf.memory().numTensors;
  const id = toyFeatures('identity'), ex = toyFeatures('expression');
  const split = identitySplit(id.samples, id.subjects, id.labels, 3);
  const leaky = await identityLeakage(id.features, id.dim, id.samples, id.subjects, split);
  const clean = await identityLeakage(ex.features, ex.dim, ex.samples, ex.subjects, split);
  assert.equal(leaky.chance, 1 / 6);
  assert.ok(leaky.accuracy > 0.9, `identity features: ${leaky.accuracy}`);
  assert.ok(clean.accuracy <= 1 / 6 + 0.1, `expression features: ${clean.accuracy}`);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  await assert.rejects(identityLeakage(id.features, id.dim, id.samples.subarray(0, 10), id.subjects, split), /feature values for 10 rows/);
});

test('features of different sizes are probed in one size: a PCA fitted on the probe\'s training rows', async () => {
  // 40 rows in 12-d: large variance along two oblique directions, little elsewhere
  const n = 40, dim = 12;
  let x = 7;
  const noise = () => ((x = (x * 16807) % 2147483647) / 2147483647 - 0.5) * 0.02;
  const u = Array.from({ length: dim }, (_, j) => (j % 2 ? 1 : -1) / Math.sqrt(dim));
  const v = Array.from({ length: dim }, (_, j) => (j < 6 ? 1 : 0) / Math.sqrt(6));
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) features[i * dim + j] = 3 * Math.sin(i) * u[j] + 2 * Math.cos(3 * i) * v[j] + noise();
  }
  const fit = Array.from({ length: 30 }, (_, i) => i);
  const p = principalProjection(features, dim, fit, 2);
  assert.equal(p.length, n * 2);
  const sumSq = (a: Float32Array, w: number, rows: number[]) => rows.reduce((s, i) => {
    for (let j = 0; j < w; j++) s += a[i * w + j] ** 2;
    return s;
  }, 0);
  const mean = (j: number) => fit.reduce((s, i) => s + features[i * dim + j], 0) / fit.length;
  const centred = Float32Array.from(features, (f, k) => f - mean(k % dim));
  assert.ok(sumSq(p, 2, fit) / sumSq(centred, dim, fit) > 0.999, 'two components keep the two planted directions\' variance');
  assert.deepEqual(principalProjection(features, dim, fit, 2), p, 'deterministic');
  const moved = Float32Array.from(features);
  moved.fill(5, 35 * dim, 36 * dim);
  const q = principalProjection(moved, dim, fit, 2);
  assert.deepEqual(q.subarray(0, 70), p.subarray(0, 70), 'rows outside the fit do not move the directions');
  const wide = principalProjection(features, dim, [0, 1, 2, 3], 6);
  assert.ok(wide.every(Number.isFinite), 'more directions asked than 4 rows span: the extra ones are zero, not noise');
  assert.ok(Array.from({ length: n }, (_, i) => wide[i * 6 + 5]).every((c) => Math.abs(c) < 1e-6));
  assert.throws(() => principalProjection(features, dim, fit, 13), /k=13/);

  const id = toyFeatures('identity');
  const split = identitySplit(id.samples, id.subjects, id.labels, 3);
  const probed = await identityLeakage(id.features, id.dim, id.samples, id.subjects, split, { dimension: 6 });
  assert.equal(probed.dim, 6);
  assert.ok(probed.accuracy > 0.9, `identity in 6 principal directions of a one-hot-per-subject feature: ${probed.accuracy}`);
  const asIs = await identityLeakage(id.features, id.dim, id.samples, id.subjects, split);
  assert.equal(asIs.dim, id.dim, 'without a dimension: the feature as it is');
});

const config = loadConfig({ FER_PROFILE: 'smoke' }, { comparisonMethods: 'baseline,spndl,gndl', comparisonEpochs: 1, comparisonFolds: 2, comparisonImageSize: 16 });

test('every method of the comparison gets the same data, folds, image size and epochs', () => {
  const lite = loadConfig({ FER_PROFILE: 'lite' });
  const scale = mainScale(lite), point = referencePoint(lite);
  const configs = COMPARISON_METHODS.map((m) => methodConfig(lite, m, scale, point));
  for (const k of ['dataset', 'subjects', 'imageSize', 'channels', 'folds', 'epochs', 'seed', 'synferConfound', 'synferPose', 'synferLight', 'synferLabelNoise', 'synferCorrupt'] as const) {
    assert.equal(new Set(configs.map((c) => c[k])).size, 1, `${k}: ${configs.map((c) => c[k]).join(', ')}`);
  }
  const [base, spndl, gndl, idferm, ddl] = configs;
  assert.deepEqual([base.backboneWidth, spndl.backboneWidth, gndl.backboneWidth], Array(3).fill(lite.comparisonBackboneWidth));
  assert.equal(idferm.idfermRmlWidth, lite.comparisonRmlWidth);
  assert.equal(idferm.idfermImageSize, lite.comparisonImageSize, 'the HNG works at the shared size');
  assert.equal(ddl.ddlWidth, lite.comparisonDdlWidth);
  assert.equal(ddl.ddlCrop, lite.ddlCrop, 'at the DDL notebook\'s image size the crop is its own');
  assert.equal(spndl.splPaceEpochs.split(',').map(Number).reduce((a, b) => a + b, 0), lite.comparisonEpochs, 'SPL schedule fitted into the budget');
  // fewer epochs than paces: the last paces only
  const short = methodConfig(lite, 'spndl', { ...scale, epochs: 2 }, point);
  assert.deepEqual([short.splRho, short.splPaceEpochs], ['0.9,1', '1,1']);
  assert.throws(() => methodConfig(lite, 'resnet', scale, point), /unknown method 'resnet'; methods: baseline, spndl, gndl, idferm, ddl/);
  assert.throws(() => parseMethods('baseline,spndl,foo', 'comparisonMethods'), /comparisonMethods='baseline,spndl,foo': unknown method foo/);
  assert.throws(() => parseMethods('spndl,gndl', 'comparisonMethods'), /must include baseline/);
  assert.deepEqual(parseMethods('gndl, baseline', 'x'), ['baseline', 'gndl']);
  assert.throws(() => sharedConfig(lite, { ...scale, imageSize: 40 }, point), /multiple of 16/);
});

test('a tiny comparison trains every method on the same folds, compares it with the baseline and probes its features', async () => {
  const set = tinySet({ size: 16 });
  const resultsDir = path.join(root, 'results');
  const run = await runComparison(config, { set, resultsDir });
  assert.deepEqual(run.methods.map((p) => p.method), ['baseline', 'spndl', 'gndl']);
  const folds = run.methods.map((p) => fs.readFileSync(path.join(run.runs[p.method].dir, RUN_FILES.folds), 'utf8'));
  assert.ok(folds.every((f) => f === folds[0]), 'identical fold files');
  assert.equal(new Set(readCsvRows(path.join(run.runs.baseline.dir, RUN_FILES.folds)).map((r) => r.fold)).size, 2);
  assert.ok(run.methods.every((p) => run.runs[p.method].config.totalEpochs === 1 && run.runs[p.method].config.imageSize === 16));

  const results = methodResults(run);
  assert.equal(results[0].vsBaseline, null, 'the baseline is not compared with itself');
  for (const r of results.slice(1)) {
    assert.equal(r.vsBaseline!.n, 2);
    const perFold = r.accuracy.map((a, i) => a - results[0].accuracy[i]);
    assert.ok(r.vsBaseline!.diffs.every((d, i) => Math.abs(d - perFold[i]) < 1e-9), 'differences are per fold');
    assert.equal(r.macroF1.length, 2);
  }
  const table = resultRows(results);
  assert.equal(table[1]['p (paired t)'], formatP(results[1].vsBaseline!.p), 'the table shows the shared test');
  assert.equal(table[1]['beats baseline'], results[1].vsBaseline!.verdict);
  const tensors = tf.memory().numTensors;
  const analysis = await analyseModels(run, config.seed, { resultsDir });
  assert.equal(tf.memory().numTensors, tensors, 'fold models and probes disposed');
  assert.deepEqual(Object.keys(analysis.parameters).sort(), ['baseline', 'gndl', 'spndl']);
  assert.ok(analysis.parameters.gndl > analysis.parameters.baseline, 'GNDL adds the NFG to the shared backbone');
  assert.equal(analysis.parameters.spndl, analysis.parameters.baseline, 'SPNDL: the same backbone and classifier');
  assert.equal(analysis.leakage.length, 4 * 2, 'pixels + 3 methods, 2 folds');
  const smallest = Math.min(...analysis.leakage.filter((r) => r.method !== 'pixels').map((r) => r.dim));
  assert.ok(analysis.leakage.every((r) => r.probeDim === smallest), 'every feature, pixels included, probed in the smallest one\'s size');
  assert.ok(analysis.leakage.some((r) => r.dim > smallest), 'the wider features were projected');
  assert.ok(analysis.leakage.every((r) => r.accuracy >= 0 && r.accuracy <= 1 && r.chance === 1 / 3));
  assert.equal((await analyseModels(run, config.seed, { resultsDir })).cached, true);
  assert.equal(setupRows(run, analysis).length, 3);

  const all = resultsIndex(config, { resultsDir });
  const index = all.filter((r) => r.paper === 'ALL FOUR');
  assert.deepEqual(index.map((r) => r['paper row']), ['Baseline', 'SPNDL', 'GNDL']);
  const ours = new Set(index.map((r) => r['run id']));
  // these three methods run in the comparison exactly as in their paper notebooks (same run ids), so their
  // runs also stand for the papers' rows
  const paperIds = new Set(all.filter((r) => r.paper !== 'ALL FOUR').map((r) => r['run id']));
  assert.ok([...ours].every((id) => paperIds.has(id)), 'the paper notebooks\' own runs, reused, are listed for the papers too');
  assert.ok(index.every((r) => r['paper value'] === null && /^\d+\.\d\d ± \d+\.\d\d$/.test(r.ours)));
});

test('the verdicts are computed from the numbers with the shared paired test', () => {
  const r = (method: string, label: string, acc: number[], base: number[]): MethodResult => ({
    method, label, accuracy: acc, macroF1: acc,
    vsBaseline: method === 'baseline' ? null : pairedTest(acc.map((a, i) => a - base[i])),
  });
  const base = [50, 52, 48];
  const answers = (acc: number[]) => comparisonVerdicts([r('baseline', 'Baseline', base, base), r('spndl', 'SPNDL', acc, base)],
    null, null, null).map((v) => String(v.answer));
  const clear = answers([60, 63, 58]);
  assert.equal(clear[0], 'yes: SPNDL', '+10.3 ± 0.6, p < 0.05');
  assert.equal(clear[1], 'no', 'not below the baseline');
  assert.match(clear[3], /^yes: SPNDL/, 'ahead of the runner-up');
  const noisy = answers([60, 40, 55]);
  assert.equal(noisy[0], 'no');
  assert.match(noisy[3], /^unclear: /, 'a lead within the spread');
  assert.equal(answers([40, 41, 38])[1], 'yes: SPNDL', '10 to 11 points below on every fold');
  assert.equal(answers([50.2, 52.1, 48.1])[2], 'SPNDL', 'a level result: any gain is below a point');
});

test('face-api reference: class mapping, shapes, unmappable samples counted, a clear error without model files', async () => {
  assert.deepEqual(faceApiIndexOf(['anger', 'contempt', 'disgust', 'fear', 'happy', 'sadness', 'surprise', 'neutral']), [3, -1, 5, 4, 1, 2, 6, 0]);
  await assert.rejects(loadFaceApiExpression(root), /face-api expression model not found: .*face_expression_model-weights_manifest.json is missing/);
  const model = await loadFaceApiExpression();
  try {
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([2, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const p = model.probabilities(x);
    assert.deepEqual(p.shape, [2, 7]);
    assert.ok((tf.tidy(() => p.sum(1).arraySync()) as number[]).every((s) => Math.abs(s - 1) < 1e-4));
    tf.dispose([x, p]);
    const classes = ['anger', 'contempt', 'happy'];
    const images = new Float32Array(4 * 16 * 16).fill(0.5);
    const score = scoreFaceApi(model, images, 16, 1, [0, 1, 2, 1], classes, [0, 1, 2, 3]);
    assert.deepEqual([score.mappable, score.unmappable, score.predictions.length, score.chanceRestricted], [2, 2, 2, 0.5]);
    assert.ok(score.predictions.every((q) => q.predicted === 'angry' || q.predicted === 'happy'), 'restricted to the classes present');
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('the comparison figures compile and render', async () => {
  const acc = accuracyByMethodSpec([{ method: 'Baseline', fold: 0, acc: 0.5 }, { method: 'GNDL', fold: 0, acc: 0.6 }], 1 / 7);
  const curves = factorCurvesSpec([{ factor: 'pose', level: 0, method: 'Baseline', acc_mean: 0.5, acc_std: 0.1 }, { factor: 'pose', level: 30, method: 'Baseline', acc_mean: 0.4, acc_std: 0.1 }]);
  const leak = leakageSpec([{ method: 'Baseline', fold: 0, accuracy: 0.8, chance: 0.25 }]);
  for (const spec of [acc, curves, leak]) assert.match(await specToSvg(spec), /^<svg/);
});
