import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadConfig, type Config } from '../lib/config';
import { buildDdm } from '../lib/models/ddl/ddm';
import { buildDfem } from '../lib/models/ddl/dfem';
import { readWeightsFile } from '../lib/models/pretrained';
import { ddlConfig, ddlDfemMethod, ddlMethod, dfemRunConfig, type DdlModel } from '../lib/experiments/ddl';
import { loadDdlWeights, prepareDdlInit, stage0WeightsFile, type DdlInit } from '../lib/experiments/ddl-pretrain';
import type { PrepareContext, RunConfig } from '../lib/train/run-types';
import { planRun, runExperiment } from '../lib/experiments/runner';
import { resolveRunConfig } from '../lib/experiments/settings';
import { disposeModel } from '../lib/train/trainer';
import { tinySet } from './tiny-set';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ddl-pretrain-'));
before(async () => { await initBackend(); });
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const trunk = { width: 2, blocks: 1, downsample: 'maxpool' as const, inputShape: [16, 16, 1] as [number, number, number], featureDim: 8, dropout: 0, classes: 3 };
const values = (m: tf.LayersModel, prefix: string) => new Map(m.weights.filter((w) => w.originalName.startsWith(prefix)).map((w) => [w.originalName, Array.from(w.read().dataSync())]));

/** Writes `model`'s weights whose names start with `prefix` as a model.json in `dir`. */
async function writeWeights(model: tf.LayersModel, dir: string, prefix = 'Sg.', rename = (n: string) => n): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const named = model.weights.filter((w) => w.originalName.startsWith(prefix)).map((w) => ({ name: rename(w.originalName), tensor: w.read() }));
  const { data, specs } = await tf.io.encodeWeights(named);
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }));
  return path.join(dir, 'model.json');
}

test('loadDdlWeights: S_g of a DDM-layout file lands in every head variant and in the DFEM trunk; the rest stays as built; no tensors leak', async () => {
  const source = buildDdm({ ...trunk, head: 'plain', disturbance: false, seed: 1 });
  const file = await writeWeights(source.full, path.join(tmp, 'sg'));
  const want = values(source.full, 'Sg.');
  const before = tf.memory().numTensors;
  for (const head of ['plain', 'multi'] as const) {
    const ddm = buildDdm({ ...trunk, head, disturbance: head === 'multi', seed: 9 });
    const se = values(ddm.full, 'Se.');
    const report = loadDdlWeights(ddm.full, file, 'ddm');
    assert.equal(report.loaded.length, want.size);
    for (const [name, v] of values(ddm.full, 'Sg.')) assert.deepEqual(v, want.get(name), name);
    assert.deepEqual(values(ddm.full, 'Se.'), se, 'S_e and the head keep their seeded weights');
    ddm.full.dispose();
  }
  const dfem = buildDfem({ ...trunk, heads: [{ factor: 'g', classes: 2 }], seed: 4 });
  const report = loadDdlWeights(dfem, file, 'dfem');
  assert.equal(report.loaded.length, want.size);
  for (const [name, v] of values(dfem, 'dfem.stem').entries()) assert.deepEqual(v, want.get(name.replace('dfem.', 'Sg.')), name);
  assert.ok(report.kept.some((n) => n.startsWith('dfem.head.')), 'DFEM heads stay as built');
  dfem.dispose();
  source.full.dispose();
  assert.equal(tf.memory().numTensors, before - (source.full.weights.length));
});

test('loadDdlWeights: a file without the DDM layout, a missing file, or a trunk of another width fail with the file named', async () => {
  const other = buildDdm({ ...trunk, head: 'plain', disturbance: false, seed: 1 });
  const renamed = await writeWeights(other.full, path.join(tmp, 'torch'), 'Sg.', (n) => n.replace('Sg.', 'layer.'));
  const target = buildDdm({ ...trunk, head: 'plain', disturbance: false, seed: 2 });
  assert.throws(() => loadDdlWeights(target.full, renamed, 'ddm'), (e: Error) => e.message.includes(renamed) && /no weight matches the DDM layout/.test(e.message));
  assert.throws(() => loadDdlWeights(target.full, path.join(tmp, 'none.json'), 'ddm'), /not found: .*none\.json/);
  const wide = buildDdm({ ...trunk, width: 3, head: 'plain', disturbance: false, seed: 1 });
  const wideFile = await writeWeights(wide.full, path.join(tmp, 'wide'));
  assert.throws(() => loadDdlWeights(target.full, wideFile, 'ddm'), (e: Error) => e.message.includes(wideFile) && /trunk weight\(s\) missing or of another shape/.test(e.message));
  [other, target, wide].forEach((m) => m.full.dispose());
});

// a tiny smoke configuration on 16-px faces: stage 0 and the DFEM draw small SynFER sets at that size
const cfg = ddlConfig(loadConfig({ FER_PROFILE: 'smoke' }, { ddlImageSize: 16, ddlCrop: 16, ddlWidth: 2, ddlPretrainSubjects: 8, ddlPretrainImages: 4 }));
const set = tinySet({ size: 16 });
const data = { size: 16, channels: 1 as const, classes: set.classes, hasNeutral: true };
const deps: { method: string; cached: boolean; dir: string }[] = [];
function prepareCtx(config: Config, method = ddlMethod, variant = 'baseline', resultsDir = tmp): PrepareContext {
  return {
    config: resolveRunConfig(config, method, variant), data, stagesStored: false,
    runDependency: async ({ method: m, variant: v, options, ...rest }) => {
      const r = await runExperiment({ config: { ...config, ...rest } as Config, method: m, variant: v, options, resultsDir, progress: null });
      deps.push({ method: m, cached: r.cached, dir: r.dir });
      return { runDir: r.dir, runId: r.runId };
    },
  };
}

test('stage 0 is trained once and reused: Baseline, Baseline_mat, DDL and the DFEM trunk all start from its S_g', async () => {
  const built: { variant: string; sg: Map<string, number[]> }[] = [];
  let init: DdlInit | undefined;
  for (const variant of ['baseline', 'baseline-mat', 'ddl-gar-id-il-p']) {
    const ctx = prepareCtx(cfg, ddlMethod, variant);
    const prepared = await ddlMethod.prepare!(ctx) as { init: DdlInit };
    init = prepared.init;
    assert.equal(init.kind, 'stage0');
    const model = await ddlMethod.build({ config: ctx.config, options: ctx.config.options, data, fold: 0, seed: 77, prepared }) as DdlModel;
    assert.ok(model.init && model.init.loaded.length > 0);
    built.push({ variant, sg: values(model.ddm.full, 'Sg.') });
    disposeModel(model);
  }
  const stage0 = deps.filter((d) => d.method === 'ddl-pretrain');
  assert.ok(stage0.length >= 3);
  assert.equal(stage0.filter((d) => !d.cached).length, 1, 'stage 0 trains once, then comes from the store');
  assert.equal(new Set(stage0.map((d) => d.dir)).size, 1);
  const stored = readWeightsFile(init!.weights!);
  for (const b of built) for (const [name, v] of b.sg) assert.deepEqual(v, Array.from(stored[name].dataSync()), `${b.variant} ${name}`);
  // the DFEM run the DDL variant trained started from the same S_g: build it as its run does
  const dfemDir = deps.find((d) => d.method === 'ddl-dfem')!.dir;
  const dfemConfig = JSON.parse(fs.readFileSync(path.join(dfemDir, 'config.json'), 'utf8')) as RunConfig;
  const dctx = prepareCtx({ ...cfg, ...dfemRunConfig(cfg) } as Config, ddlDfemMethod, 'default');
  const dprep = await ddlDfemMethod.prepare!({ ...dctx, config: dfemConfig });
  const dfem = await ddlDfemMethod.build({ config: dfemConfig, options: dfemConfig.options, data, fold: 0, seed: 3, prepared: dprep });
  for (const [name, v] of values(dfem.parts.dfem, 'dfem.st')) assert.deepEqual(v, Array.from(stored[name.replace('dfem.', 'Sg.')].dataSync()), name);
  disposeModel(dfem);
  tf.dispose(Object.values(stored));
});

test('stage 0 is deterministic: the same settings in another results folder export the same weights', async () => {
  const other = path.join(tmp, 'again');
  const a = await prepareDdlInit(prepareCtx(cfg));
  const b = await prepareDdlInit(prepareCtx(cfg, ddlMethod, 'baseline', other));
  assert.notEqual(a.weights, b.weights);
  assert.deepEqual(fs.readFileSync(path.join(path.dirname(a.weights!), 'weights.bin')), fs.readFileSync(path.join(path.dirname(b.weights!), 'weights.bin')));
  assert.equal(stage0WeightsFile(path.dirname(path.dirname(a.weights!))), a.weights);
});

test('pretrainedWeights replaces stage 0 and switches to the pre rate and milestones; scratch keeps random weights; the paper profile without a stage-0 set fails clearly; run ids change', async () => {
  const source = buildDdm({ ...trunk, head: 'plain', disturbance: false, seed: 1 });
  const file = await writeWeights(source.full, path.join(tmp, 'user'));
  source.full.dispose();
  const paper = loadConfig({ FER_PROFILE: 'paper' });
  const withFile = ddlConfig({ ...paper, pretrainedWeights: file, ddlPretrain: 'scratch' } as Config);
  const scratch = ddlConfig({ ...paper, ddlPretrain: 'scratch' } as Config);
  assert.equal(withFile.learningRate, paper.ddlPreLearningRate);
  assert.equal(withFile.lrMilestones, '10,18,25,32');
  assert.equal(scratch.lrMilestones, '20,28,35');
  const init = await prepareDdlInit(prepareCtx({ ...cfg, pretrainedWeights: file } as Config));
  assert.deepEqual(init, { kind: 'file', weights: file });
  assert.deepEqual(await prepareDdlInit(prepareCtx({ ...cfg, ddlPretrain: 'scratch' } as Config)), { kind: 'scratch', weights: null });
  await assert.rejects(prepareDdlInit(prepareCtx({ ...cfg, pretrainedWeights: path.join(tmp, 'missing.json') } as Config)), /pretrainedWeights: file not found: .*missing\.json/);
  const real = ddlConfig({ ...paper, dataset: 'csv', manifest: 'x.csv' } as Config);
  await assert.rejects(prepareDdlInit(prepareCtx(real)), /FER_DDL_PRETRAIN_MANIFEST is empty/);
  const id = (c: Config) => planRun({ config: c, method: 'ddl', variant: 'baseline', set }).runId;
  assert.notEqual(id(cfg), id({ ...cfg, ddlPretrain: 'scratch' } as Config));
});
