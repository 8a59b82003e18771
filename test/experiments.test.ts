import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { extractFeatures, loadFoldModel, runExperiment, planRun } from '../lib/experiments/runner';
import { disposeModel, evaluate } from '../lib/train/trainer';
import { describeMethods } from '../lib/experiments/methods';
import { confusionHeatmapSpec, drawRunFigures, learningCurvesSpec, perClassAccuracySpec } from '../lib/figures/charts';
import { specToSvg } from '../lib/figures/render';
import { frameRows, listRuns, loadRun, RUN_FILES, summarizeRuns } from '../lib/results/store';
import { main as experimentCli } from '../tools/experiment';
import { tinyFolds, tinySet } from './tiny-set';

before(async () => { await initBackend(); });

const set = tinySet();
const foldOf = tinyFolds(set, 2);
const config = (o: Record<string, string | number | boolean> = {}) => loadConfig({ FER_PROFILE: 'smoke' }, { epochs: 2, batchSize: 8, folds: 2, ...o });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fer-runs-'));
/** results.csv without the wall-clock column */
const numbers = (run: { results: Parameters<typeof frameRows>[0] }) => frameRows(run.results).map(({ images_per_s: _s, ...rest }) => rest);

test('a run writes its config and tables; an identical run is reused; --force recomputes the same numbers', async () => {
  const root = tmp();
  let epochs = 0;
  const opts = { config: config(), method: 'baseline', set, foldOf, resultsDir: root, progress: null, onEpoch: () => { epochs++; } } as const;
  const first = await runExperiment(opts);
  assert.equal(first.cached, false);
  assert.equal(epochs, 4);
  assert.match(first.runId, /^baseline-plain-synfer-smoke-s1-k2-[0-9a-f]{8}$/);
  assert.equal(first.dir, path.join(root, 'baseline', first.runId));
  for (const f of [RUN_FILES.config, RUN_FILES.results, RUN_FILES.predictions, RUN_FILES.folds, RUN_FILES.meta]) {
    assert.ok(fs.existsSync(path.join(first.dir, f)), f);
  }
  assert.ok(!fs.existsSync(path.join(first.dir, RUN_FILES.spl)), 'no SPL table for a run without SPL');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(first.dir, RUN_FILES.config), 'utf8')), first.config);
  assert.equal(first.config.data?.name, 'tiny');
  assert.deepEqual(frameRows(first.results).map((r) => [r.fold, r.epoch]), [[0, 1], [0, 2], [1, 1], [1, 2]]);
  assert.equal(first.predictions.shape[0], set.labels.length, 'every sample is tested once');

  const again = await runExperiment(opts);
  assert.equal(again.cached, true);
  assert.equal(epochs, 4, 'nothing trained');
  assert.deepEqual(frameRows(again.results), frameRows(first.results));

  const forced = await runExperiment({ ...opts, force: true });
  assert.equal(forced.cached, false);
  assert.equal(epochs, 8);
  assert.deepEqual(numbers(forced), numbers(first), 'same seed and backend, same numbers');

  const other = await runExperiment({ ...opts, config: config({ seed: 2 }) });
  assert.notEqual(other.runId, first.runId);
  assert.deepEqual(listRuns({ root }).map((r) => r.runId).sort(), [first.runId, other.runId].sort());
  fs.rmSync(root, { recursive: true });
});

test('a run killed in its second fold resumes: the finished fold is kept, the result equals an uninterrupted run', async () => {
  const root = tmp();
  // in-process (workers=1): there an onEpoch that throws stops the run, as a kill would
  const base = { config: config({ epochs: 3, workers: 1 }), method: 'baseline', variant: 'spl', options: {}, set, foldOf, progress: null } as const;
  const whole = await runExperiment({ ...base, resultsDir: tmp() });
  const seen: string[] = [];
  await assert.rejects(runExperiment({ ...base, resultsDir: root, onEpoch: (r) => { if (r.fold === 1 && r.epoch === 2) throw new Error('killed'); } }), /killed/);
  const dir = planRun({ ...base, resultsDir: root, set }).dir;
  assert.ok(!fs.existsSync(path.join(dir, RUN_FILES.results)), 'no results table from a crashed run');
  assert.throws(() => loadRun(dir), /not complete/);
  const resumed = await runExperiment({ ...base, resultsDir: root, onEpoch: (r) => seen.push(`${r.fold}:${r.epoch}`) });
  assert.deepEqual(seen, ['1:3', '1:4', '1:5', '1:6'], 'fold 0 kept; fold 1 resumed after its epoch 2');
  assert.deepEqual(numbers(resumed), numbers(whole));
  assert.deepEqual(frameRows(resumed.spl!), frameRows(whole.spl!));
  assert.deepEqual(frameRows(resumed.predictions), frameRows(whole.predictions));
  fs.rmSync(root, { recursive: true });
});

test('folds trained by the worker pool give the numbers of in-process training; one request per run trains it once', async () => {
  const inProcess = { config: config({ workers: 1 }), set, foldOf, progress: null } as const;
  const pooled = { config: config({ workers: 2 }), set, foldOf, progress: null } as const;
  for (const [method, variant] of [['baseline', 'spl'], ['spndl', 'ndf'], ['gndl', 'gndl']] as const) {
    const a = await runExperiment({ ...inProcess, method, variant, resultsDir: tmp() });
    const root = tmp();
    const rows: string[] = [];
    // two requests for the same run at once: the second waits for the first instead of training again
    const [b, c] = await Promise.all([0, 1].map(() => runExperiment({ ...pooled, method, variant, resultsDir: root, onEpoch: (r) => rows.push(`${r.fold}:${r.epoch}`) })));
    assert.equal(b.runId, a.runId, 'the pool is not part of a run\'s settings');
    assert.deepEqual(numbers(b), numbers(a), `${method}/${variant}: same numbers in the pool`);
    assert.deepEqual(frameRows(b.predictions), frameRows(a.predictions));
    assert.equal(c, b);
    assert.deepEqual(rows.sort(), frameRows(b.results).map((r) => `${r.fold}:${r.epoch}`).sort(), 'each epoch reported once');
  }
});

test('a fold that fails in a worker fails its run with an error naming the worker, run and fold; nothing is half-written', async () => {
  const root = tmp();
  const opts = { config: config({ workers: 2 }), method: 'baseline', set, foldOf, resultsDir: root, progress: null } as const;
  const dir = planRun({ ...opts }).dir;
  fs.mkdirSync(path.join(dir, RUN_FILES.work), { recursive: true });
  fs.writeFileSync(path.join(dir, RUN_FILES.work, 'fold-1.ckpt'), 'not a checkpoint');
  await assert.rejects(runExperiment(opts), /fold worker \d, baseline-plain-synfer-smoke-s1-k2-[0-9a-f]{8} fold 2: .*fold-1\.ckpt/);
  assert.ok(!fs.existsSync(path.join(dir, RUN_FILES.results)), 'no results table from a failed run');
  fs.rmSync(path.join(dir, RUN_FILES.work, 'fold-1.ckpt'));
  assert.equal((await runExperiment(opts)).cached, false, 'the next request trains the run');
  fs.rmSync(root, { recursive: true });
});

test('summary per variant: mean and std over folds, pooled accuracy from the predictions', async () => {
  const root = tmp();
  const run = await runExperiment({ config: config(), method: 'baseline', set, foldOf, resultsDir: root, progress: null });
  const [s] = frameRows(summarizeRuns([loadRun(run.runId, root)]));
  const accs = frameRows(run.results).filter((r) => r.epoch === 2).map((r) => r.test_acc as number);
  assert.equal(s.folds, 2);
  assert.ok(Math.abs((s.acc_mean as number) - (accs[0] + accs[1]) / 2) < 1e-12);
  assert.ok(Math.abs((s.acc_std as number) - Math.abs(accs[0] - accs[1]) / Math.SQRT2) < 1e-12);
  const preds = frameRows(run.predictions);
  assert.equal(s.acc_pooled, preds.filter((p) => p.label === p.prediction).length / preds.length);
  fs.rmSync(root, { recursive: true });
});

test('a dataset with an official train/test split runs as one fold', async () => {
  const root = tmp();
  const split = tinySet({ split: true });
  const run = await runExperiment({ config: config({ epochs: 1 }), method: 'baseline', set: split, resultsDir: root, progress: null });
  assert.deepEqual(frameRows(run.results).map((r) => r.fold), [0]);
  assert.equal(run.predictions.shape[0], split.rows.filter((r) => r.split === 'test').length);
  fs.rmSync(root, { recursive: true });
});

test('bad settings are errors that name them, before anything is written', async () => {
  const root = tmp();
  const run = (o: Partial<Parameters<typeof runExperiment>[0]>) => runExperiment({ config: config(), method: 'baseline', set, foldOf, resultsDir: root, progress: null, ...o });
  await assert.rejects(run({ method: 'nope' }), /unknown method 'nope'; methods: baseline/);
  await assert.rejects(run({ variant: 'fancy' }), /no variant 'fancy'; variants: plain, spl/);
  await assert.rejects(run({ options: { lambda: 1 } }), /no option 'lambda'; options: augment/);
  await assert.rejects(run({ variant: 'spl', config: config({ splRho: '0.5,0.9' }) }), /splRho must end with 1/);
  await assert.rejects(run({ config: config({ splRho: '0.5,x' }), variant: 'spl' }), /splRho='0.5,x': 'x' is not a number/);
  await assert.rejects(run({ config: config({ lrSchedule: 'milestones', lrMilestones: '0' }) }), /milestones/);
  const bad = { ...set, labels: Int32Array.from(set.labels, (y, i) => (i === 5 ? 7 : y)) };
  await assert.rejects(run({ set: bad }), /sample 5: label 7 is not a class index/);
  assert.deepEqual(fs.readdirSync(root), [], 'nothing written');
  assert.throws(() => loadConfig({ FER_PROFILE: 'smoke', FER_OPTIMIZER: 'lion' }), /FER_OPTIMIZER='lion' must be one of/);
  fs.rmSync(root, { recursive: true });
});

test('figures are drawn from the stored tables alone', async () => {
  const root = tmp();
  await runExperiment({ config: config(), method: 'baseline', set, foldOf, resultsDir: root, progress: null });
  const stored = loadRun(listRuns({ root })[0].runId, root);
  for (const spec of [learningCurvesSpec(stored.results), confusionHeatmapSpec(stored.predictions, set.classes), perClassAccuracySpec(stored.predictions, set.classes)]) {
    assert.match(await specToSvg(spec), /^<svg/);
  }
  assert.throws(() => learningCurvesSpec(stored.results, ['val_acc']), /no column val_acc/);
  const figs = await drawRunFigures(stored, path.join(root, 'figures'));
  assert.equal(figs.length, 3);
  for (const f of figs) assert.ok(fs.existsSync(path.join(root, 'figures', `${f.name}.svg`)));
  fs.rmSync(root, { recursive: true });
});

test('command line: --help, unknown options and methods are errors naming them', async () => {
  await assert.rejects(experimentCli(['--method', 'baseline', '--bogus']), /Unknown option '--bogus'/);
  await assert.rejects(experimentCli(['--method', 'nope']), /unknown method 'nope'/);
  await assert.rejects(experimentCli(['--method', 'baseline', '--option', 'x=1']), /--option x: method 'baseline' has no such option/);
  await assert.rejects(experimentCli([]), /--method is required/);
  await assert.rejects(experimentCli(['--method', 'baseline', '--seed', 'abc']), /--seed 'abc' must be a non-negative integer/);
  await assert.rejects(experimentCli(['--method', 'baseline', '--profile', 'big']), /--profile 'big' is not a profile/);
  assert.ok(describeMethods().some((m) => m.method === 'baseline' && m.variant === 'spl' && m.spl));
});

test('a stored fold model reproduces the stored predictions and gives features, without training', async () => {
  const root = tmp();
  const run = await runExperiment({ config: config(), method: 'baseline', set, foldOf, resultsDir: root, progress: null });
  const before = tf.memory().numTensors;
  const model = await loadFoldModel(run, 1, set, root);
  const stored = frameRows(run.predictions).filter((p) => p.fold === 1);
  const samples = Int32Array.from(stored.map((p) => p.sample as number));
  assert.deepEqual(Array.from((await evaluate(model, set, samples, false, 16)).predictions), stored.map((p) => p.prediction));
  const feats = extractFeatures(model, set, samples, false, 5);
  assert.equal(feats.backbone.dim, 64);
  assert.equal(feats.backbone.data.length, samples.length * 64);
  disposeModel(model);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(loadFoldModel(run, 7, set, root), /no checkpoint for fold 7/);
  fs.rmSync(root, { recursive: true });
});

test('a run id depends on what the run computes: the data it saw, not which other runs a notebook lists', () => {
  const config = loadConfig({ FER_PROFILE: 'smoke' });
  const set = tinySet();
  const id = (c: typeof config, s = set) => planRun({ config: c, method: 'idferm', variant: 'idferm', set: s }).runId;
  const listed = loadConfig({ FER_PROFILE: 'smoke', FER_IDFERM_LAMBDAS: '0,0.5,1', FER_IDFERM_VARIANTS: 'idferm', FER_COMPARISON_METHODS: 'baseline' });
  assert.equal(id(listed), id(config), 'editing a notebook list retrained its runs');
  assert.notEqual(id(loadConfig({ FER_PROFILE: 'smoke', FER_IDFERM_EPOCHS: '3' })), id(config));
  const redrawn = { ...set, images: set.images.map((v, i) => (i === 0 ? 1 - v : v)) };
  assert.notEqual(id(config, redrawn), id(config), 'a changed dataset with the same name reused the old runs');
});
