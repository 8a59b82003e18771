/**
 * IDFERM stage C (IDFERM Sec. 5.3, Table 5): the RML network pretrained
 * on the face database runs once as a cached dependency of the fine-tuning
 * runs; a fine-tuned network starts from its trunk, FC1_EC and ML branch
 * while FC2_EC and the metric head start afresh; no tensors leak across
 * build and dispose; the stage is deterministic. Smoke profile: the
 * synthetic face-db is 6 subjects at 32 px, one epoch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { idfermConfig, idfermMethod, idfermPretrainMethod, loadIdfermSet, PRETRAINED_PARTS } from '../lib/experiments/idferm';
import { pretrainedCheckpoint, pretrainRows } from '../lib/experiments/idferm-pretrain';
import { pretrainStage } from '../lib/experiments/idferm-report';
import type { MethodModel } from '../lib/train/run-types';
import { runExperiment } from '../lib/experiments/runner';
import { resolveRunConfig } from '../lib/experiments/settings';
import { loadCheckpoint } from '../lib/train/checkpoint';
import { dataInfo, disposeModel } from '../lib/train/trainer';
import type { ManifestRow } from '../lib/data/manifest';
import { frameRows } from '../lib/results/store';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-idferm-pretrain-'));
const cfg = idfermConfig(loadConfig({ FER_PROFILE: 'smoke' }));
before(async () => { await initBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const stageRuns = (root: string) => fs.existsSync(path.join(root, 'idferm-pretrain')) ? fs.readdirSync(path.join(root, 'idferm-pretrain')) : [];
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('pretraining rows: the four usable expressions only, and whole subjects held out for validation', () => {
  const rows: ManifestRow[] = [];
  for (let s = 0; s < 12; s++) for (const label of ['neutral', 'anger', 'surprise', 'happy', 'disgust', 'fear']) {
    rows.push({ path: `s${s}/${label}.png`, subject: `s${s}`, sequence: `s${s}-${label}`, frame: 1, label, neutral_path: `s${s}/neutral.png` });
  }
  const out = pretrainRows(rows, 1);
  assert.deepEqual([...new Set(out.map((r) => r.label))].sort(), ['disgust', 'happy', 'neutral', 'surprise']);
  const held = new Set(out.filter((r) => r.split === 'test').map((r) => r.subject));
  assert.equal(held.size, 1, '1 in 10 subjects (at least one)');
  assert.ok(out.filter((r) => held.has(r.subject)).every((r) => r.split === 'test'), 'a validation subject has no training rows');
  assert.deepEqual(pretrainRows(rows, 1), out, 'seeded');
  assert.throws(() => pretrainRows(rows.filter((r) => r.label === 'anger' || r.label === 'happy'), 1), /at least 2 of the expressions/);
});

test('the stage runs once as a dependency and is reused by every fine-tuning variant; a fine-tuning run records its option', async () => {
  const set = await loadIdfermSet(cfg);
  const first = await runExperiment({ config: cfg, method: 'idferm', variant: '2bnm-pretrained', set, resultsDir: tmp, progress: null });
  assert.equal(first.config.options.pretrain, 'joint');
  const stages = stageRuns(tmp);
  assert.equal(stages.length, 1, `one stage run, found ${stages.join(', ')}`);
  const marker = path.join(tmp, 'idferm-pretrain', stages[0], 'results.csv');
  const written = fs.statSync(marker).mtimeMs;
  await runExperiment({ config: cfg, method: 'idferm', variant: 'softmax', options: { pretrain: 'joint' }, set, resultsDir: tmp, progress: null });
  assert.deepEqual(stageRuns(tmp), stages, 'the second variant made a new stage run');
  assert.equal(fs.statSync(marker).mtimeMs, written, 'the stage was trained again');
  const again = await pretrainStage(cfg, 'joint', { resultsDir: tmp, progress: null });
  assert.equal(again.cached, true);
  assert.equal(path.basename(again.dir), stages[0]);
  assert.deepEqual(Object.keys(again.config.options).sort(), ['connect', 'lreluSlope']);
});

test('a fine-tuned network starts from the stage\'s trunk, FC1_EC and ML branch; FC2_EC and the metric head start afresh; no tensor leak', async () => {
  const stage = await pretrainStage(cfg, 'joint', { resultsDir: tmp, progress: null });
  const set = await loadIdfermSet(cfg);
  const data = dataInfo(set);
  const build = async (pretrain: string, prepared: object) => {
    const config = resolveRunConfig(cfg, idfermMethod, '2bnm', { pretrain });
    return await idfermMethod.build({ config, options: config.options, data, fold: 0, seed: 7, prepared: { refs: null, subjects: set.subjects, identityNet: null, hngDir: null, ...prepared } }) as MethodModel;
  };
  // the stage's trained network, as stored
  const stageSet = { ...data, classes: stage.config.data!.classes, hasNeutral: true };
  const stored = await idfermPretrainMethod.build({ config: stage.config, options: stage.config.options, data: stageSet, fold: 0, seed: 1, prepared: { refs: new Float32Array(0), subjects: [] } }) as MethodModel;
  await loadCheckpoint(pretrainedCheckpoint(stage.dir), stored.parts, {});

  const n0 = tf.memory().numTensors;
  const tuned = await build('joint', { pretrained: { runDir: stage.dir, runId: stage.runId } });
  const scratch = await build('none', {});
  try {
    for (const k of PRETRAINED_PARTS) {
      assert.deepEqual(weightsOf(tuned.parts[k]), weightsOf(stored.parts[k]), `${k}: not the stage's weights`);
      assert.notDeepEqual(weightsOf(scratch.parts[k]), weightsOf(stored.parts[k]), `${k}: the scratch build equals the stage (the test could not fail)`);
    }
    assert.equal(tuned.parts.ec2.outputs[0].shape[1], set.classes.length, 'FC2_EC has the FER classes');
    assert.notEqual(stored.parts.ec2.outputs[0].shape[1], set.classes.length, 'the stage has its own classes');
    for (const k of ['ec2', 'head']) assert.deepEqual(weightsOf(tuned.parts[k]), weightsOf(scratch.parts[k]), `${k}: not the seeded initialisation`);
    assert.notDeepEqual(weightsOf(tuned.parts.head), weightsOf(stored.parts.head), 'the metric head came from the stage');
  } finally {
    disposeModel(tuned);
    disposeModel(scratch);
  }
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked across build and dispose');
  disposeModel(stored);
});

test('the stage is deterministic: the same seed gives the same losses and weights', async () => {
  const other = path.join(tmp, 'again');
  const a = await pretrainStage(cfg, 'joint', { resultsDir: tmp, progress: null });
  const b = await pretrainStage(cfg, 'joint', { resultsDir: other, progress: null });
  assert.equal(b.cached, false);
  assert.equal(a.runId, b.runId);
  const losses = (r: typeof a) => frameRows(r.results).map((row) => [row.train_loss, row.test_loss, row.test_acc]);
  assert.deepEqual(losses(b), losses(a));
  const weights = async (r: typeof a) => {
    const m = await idfermPretrainMethod.build({ config: r.config, options: r.config.options, data: { size: r.config.data!.size, channels: 1, classes: r.config.data!.classes, hasNeutral: true }, fold: 0, seed: 1, prepared: { refs: new Float32Array(0), subjects: [] } }) as MethodModel;
    await loadCheckpoint(pretrainedCheckpoint(r.dir), m.parts, {});
    const w = Object.fromEntries(Object.entries(m.parts).map(([k, p]) => [k, weightsOf(p)]));
    disposeModel(m);
    return w;
  };
  assert.deepEqual(await weights(b), await weights(a), 'the stage\'s weights differ between two identical runs');
});
