import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig, type Config } from '../lib/config';
import { loadDataset, type FerSet } from '../lib/data/dataset';
import { readManifest } from '../lib/data/manifest';
import { baselineMethod } from '../lib/experiments/baseline';
import { gndlMethod } from '../lib/experiments/gndl';
import {
  ensureIdentityDatabase, ensureIdPretrain, exportedWeightsFile, heldOutPerIdentity, type BackboneInit,
} from '../lib/experiments/id-pretrain';
import type { Method, PrepareContext } from '../lib/train/run-types';
import { registerMethod } from '../lib/experiments/methods';
import { planRun, runExperiment } from '../lib/experiments/runner';
import { spndlMethod } from '../lib/experiments/spndl';
import { buildBackbone } from '../lib/models/backbones';
import { readWeightsFile } from '../lib/models/pretrained';
import { PROJECT_ROOT } from '../lib/paths';
import { listRuns, loadRun, RUN_FILES } from '../lib/results/store';
import { loadCheckpoint } from '../lib/train/checkpoint';
import { dataInfo, disposeModel } from '../lib/train/trainer';
import { tinyFolds, tinySet } from './tiny-set';

before(async () => { await initBackend(); });

const set = tinySet(); // 16 px grey: the identity database is drawn at the data's shape
const foldOf = tinyFolds(set, 2);
const config = (o: Record<string, string | number | boolean> = {}) => loadConfig({ FER_PROFILE: 'smoke' }, {
  epochs: 1, batchSize: 8, folds: 2, backboneWidth: 2, idPreSubjects: 4, idPreImages: 3, idPreEpochs: 1, ...o,
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fer-idpre-'));

/** The runner's prepare context for a run of `method` on the tiny set (dependencies stored under `root`). */
function prepareContext(cfg: Config, method: string, variant: string | undefined, root: string): PrepareContext {
  const { config: rc } = planRun({ config: cfg, method, variant, set, resultsDir: root });
  return {
    config: rc, data: dataInfo(set), stagesStored: false,
    runDependency: async ({ method: m, variant: v, options, ...rest }) => {
      const r = await runExperiment({ config: { ...cfg, ...rest } as Config, method: m, variant: v, options, resultsDir: root, progress: null });
      return { runDir: r.dir, runId: r.runId };
    },
  };
}

/** Weights of a model by their name without `prefix`, as plain arrays. */
const weightsOf = (model: tf.LayersModel, prefix = '') =>
  Object.fromEntries(model.weights.map((w) => [w.originalName.slice(prefix.length), Array.from(w.read().dataSync())]));

// identity traits SynFER draws per subject (the manifest's subject columns)
const TRAITS = ['face_width', 'face_height', 'jaw', 'eye_size', 'eye_spacing', 'nose_length', 'nose_width', 'mouth_width', 'brow_height'];
const signature = (r: Record<string, unknown>) => TRAITS.map((k) => r[k]).join('|');

test('the identity database holds other identities than the FER data, with identity labels and held-out images per identity', async () => {
  const cfg = config();
  const fer = await loadDataset({ ...cfg, subjects: 4, imageSize: 16 });
  const file = path.resolve(PROJECT_ROOT, await ensureIdentityDatabase(cfg, { size: 16, channels: 1 }));
  const rows = readManifest(file);
  const ids = [...new Set(rows.map((r) => r.subject))];
  assert.equal(ids.length, 4);
  assert.equal(rows.length, 4 * (3 + heldOutPerIdentity(3)));
  for (const id of ids) {
    const mine = rows.filter((r) => r.subject === id);
    assert.ok(mine.every((r) => r.label === id), 'label = identity');
    assert.equal(mine.filter((r) => r.split === 'train').length, 3);
    assert.equal(mine.filter((r) => r.split === 'test').length, heldOutPerIdentity(3));
    assert.equal(new Set(mine.map(signature)).size, 1, 'one identity, one set of traits');
  }
  assert.ok(new Set(rows.map((r) => r.expression)).size > 1, 'random expressions');
  const ferIdentities = new Set(fer.rows.map(signature));
  assert.equal(ferIdentities.size, 4);
  assert.ok(rows.every((r) => !ferIdentities.has(signature(r))), 'no FER identity in the identity database');
  await assert.rejects(ensureIdentityDatabase(config({ idPreSeed: cfg.seed }), { size: 16, channels: 1 }), /idPreSeed=1 equals seed/);
});

test("backboneInit='id-pre': the stage is a cached run, its weights are what every backbone loads (both of SPNDL w/o neutral), and the run id changes", async () => {
  const root = tmp();
  const tensors = tf.memory().numTensors;
  const cfg = config({ backboneInit: 'id-pre' });
  const run = await runExperiment({ config: cfg, method: 'baseline', set, foldOf, resultsDir: root, progress: null });
  assert.equal(run.config.backboneInit, 'id-pre');
  assert.notEqual(run.runId, planRun({ config: config(), method: 'baseline', set, resultsDir: root }).runId, 'scratch and id-pre runs differ');
  const stages = listRuns({ root, method: 'id-pretrain' });
  assert.equal(stages.length, 1);
  const stage = loadRun(stages[0].dir);
  assert.equal(stage.config.data?.classes.length, 4, 'classes are the identities');
  assert.equal(stage.config.imageSize, 16);
  assert.equal(stage.config.backboneWidth, 2);
  assert.equal(stage.config.epochs, 1);

  // a second run with another FER setting reuses the stage (same backbone shape)
  const ctx = prepareContext(config({ backboneInit: 'id-pre', epochs: 2 }), 'baseline', undefined, root);
  const prepared = await baselineMethod.prepare!(ctx) as { backboneInit: BackboneInit };
  assert.equal(prepared.backboneInit.runId, stage.runId);
  assert.equal(prepared.backboneInit.weights, exportedWeightsFile(stage.dir));
  assert.equal(listRuns({ root, method: 'id-pretrain' }).length, 1);

  // the exported file = the stage's trained backbone (its checkpoint)
  const trained = buildBackbone('lite-cnn', { inputShape: [16, 16, 1], width: 2, seed: 0 });
  await loadCheckpoint(path.join(stage.dir, RUN_FILES.work, 'fold-0.ckpt'), { backbone: trained.model }, {});
  const stored = weightsOf(trained.model);
  const file = readWeightsFile(prepared.backboneInit.weights!);
  assert.deepEqual(Object.fromEntries(Object.entries(file).map(([k, t]) => [k, Array.from(t.dataSync())])), stored);
  tf.dispose(Object.values(file));
  trained.model.dispose();

  const build = async (method: Method, variant: string, p: unknown) => {
    const rc = planRun({ config: ctx.config as unknown as Config, method: method.name, variant, set, resultsDir: root }).config;
    return method.build({ config: rc, options: rc.options, data: dataInfo(set), fold: 0, seed: 5, prepared: p });
  };
  const baseline = await build(baselineMethod, 'plain', prepared);
  assert.deepEqual(weightsOf(baseline.parts.backbone), stored, 'the baseline backbone starts from the stored weights');
  disposeModel(baseline);
  const won = await build(spndlMethod, 'spndl-won', prepared);
  assert.deepEqual(weightsOf(won.parts.expression, 'expr.'), stored, 'E starts from the stored weights');
  assert.deepEqual(weightsOf(won.parts.neutral, 'neutral.'), stored, 'N starts from the stored weights');
  disposeModel(won);
  assert.deepEqual(await gndlMethod.prepare!(prepareContext(config({ backboneInit: 'id-pre' }), 'gndl', 'gndl', root)), prepared, 'GNDL prepares the same stage');
  const gndl = await build(gndlMethod, 'gndl', prepared);
  assert.deepEqual(weightsOf(gndl.parts.backbone), stored, 'the GNDL backbone starts from the stored weights');
  disposeModel(gndl);
  // a build outside a run (a checkpoint is loaded next) starts from the seed: not the stored weights
  const adhoc = await build(baselineMethod, 'plain', undefined);
  assert.notDeepEqual(weightsOf(adhoc.parts.backbone), stored);
  disposeModel(adhoc);

  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind by the stage, the export and the builds');
  fs.rmSync(root, { recursive: true });
});

test('the identity pretraining is deterministic: two result folders, the same exported weights', async () => {
  const [a, b] = [tmp(), tmp()];
  const cfg = config({ backboneInit: 'id-pre', idPreEpochs: 2 });
  const first = await ensureIdPretrain(prepareContext(cfg, 'baseline', undefined, a));
  const second = await ensureIdPretrain(prepareContext(cfg, 'baseline', undefined, b));
  assert.equal(first.runId, second.runId);
  const bin = (r: BackboneInit) => fs.readFileSync(path.join(path.dirname(r.weights!), 'weights.bin'));
  assert.ok(bin(first).equals(bin(second)));
  for (const d of [a, b]) fs.rmSync(d, { recursive: true });
});

test("contradictory settings and methods that do not prepare the init are errors naming the setting", async () => {
  const root = tmp();
  await assert.rejects(
    runExperiment({ config: config({ backboneInit: 'id-pre', pretrainedWeights: 'weights/model.json' }), method: 'baseline', set, foldOf, resultsDir: root, progress: null }),
    /backboneInit='id-pre' and pretrainedWeights='weights\/model.json' contradict/);
  registerMethod({ ...baselineMethod, name: 'test-no-prepare', prepare: undefined });
  const rc = planRun({ config: config({ backboneInit: 'id-pre' }), method: 'test-no-prepare', set, resultsDir: root }).config;
  // the trainer says whether the run's method prepares (methodPrepares), as for a run of test-no-prepare
  const ctx = { config: rc, options: rc.options, data: dataInfo(set), fold: 0, seed: 1, prepared: undefined };
  assert.throws(() => baselineMethod.build({ ...ctx, methodPrepares: false }),
    /method 'test-no-prepare' built its backbone without the identity-pretrained weights/);
  fs.rmSync(root, { recursive: true });
});
