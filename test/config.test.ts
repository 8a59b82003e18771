// Notebooks and tools read every parameter through loadConfig: profiles pick
// defaults, FER_* variables override them, and mistakes are errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { describeConfig, loadConfig, PARAMETERS } from '../lib/config';

test('lite is the default profile, and profiles differ in scale', () => {
  const lite = loadConfig({});
  assert.equal(lite.profile, 'lite');
  const smoke = loadConfig({ FER_PROFILE: 'smoke' });
  const paper = loadConfig({ FER_PROFILE: 'paper' });
  assert.ok(smoke.imageSize <= lite.imageSize && lite.imageSize < paper.imageSize);
  assert.ok(smoke.subjects < lite.subjects && smoke.epochs < lite.epochs);
  assert.ok(smoke.folds < lite.folds && paper.folds === 10);
  assert.equal(paper.backbone, 'resnet18');
});

test('FER_<NAME> overrides one parameter with the right type', () => {
  const c = loadConfig({ FER_PROFILE: 'smoke', FER_IMAGE_SIZE: '48', FER_FORCE: 'true', FER_DATASET: 'ckplus' });
  assert.equal(c.imageSize, 48);
  assert.equal(c.force, true);
  assert.equal(c.dataset, 'ckplus');
  const rows = describeConfig(c, { FER_IMAGE_SIZE: '48' });
  assert.equal(rows.find((r) => r.parameter === 'imageSize')?.source, 'FER_IMAGE_SIZE');
  assert.equal(rows.find((r) => r.parameter === 'folds')?.source, 'profile smoke');
  assert.equal(rows.length, Object.keys(PARAMETERS).length);
});

test('explicit overrides (e.g. from a command line) win over the environment', () => {
  assert.equal(loadConfig({ FER_SEED: '3' }, { seed: 9 }).seed, 9);
  assert.throws(() => loadConfig({}, { nope: 1 } as never), /unknown setting 'nope'/);
});

test('mistakes are errors that name the setting', () => {
  assert.throws(() => loadConfig({ FER_PROFILE: 'big' }), /FER_PROFILE='big' is not a profile/);
  assert.throws(() => loadConfig({ FER_EPOCS: '3' }), /unknown setting FER_EPOCS/);
  assert.throws(() => loadConfig({ FER_EPOCHS: 'three' }), /FER_EPOCHS='three' is not a number/);
  assert.throws(() => loadConfig({ FER_FORCE: 'yes' }), /FER_FORCE='yes' must be true\/false/);
  assert.throws(() => loadConfig({ FER_BACKBONE: 'vgg' }), /FER_BACKBONE='vgg' must be one of: lite-cnn, resnet18/);
});

test('FER_RESULTS_DIR moves the results store and is not a misspelt parameter', () => {
  const dir = path.join(os.tmpdir(), 'fer-results-elsewhere');
  assert.equal(loadConfig({ FER_RESULTS_DIR: dir }).profile, 'lite');
  const script = "console.log(require('./lib/results/store').RESULTS_DIR)";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.resolve(__dirname, '..'), encoding: 'utf8', env: { ...process.env, FER_RESULTS_DIR: dir },
  });
  assert.equal(r.stdout.trim(), dir);
});

test('the configuration is frozen', () => {
  const c = loadConfig({});
  assert.ok(Object.isFrozen(c));
});

test('settings that do not change a run stay out of its stored configuration and id', async () => {
  const { planRun } = await import('../lib/experiments/runner');
  const plan = (env: Record<string, string>) => planRun({ config: loadConfig({ FER_PROFILE: 'smoke', ...env }), method: 'baseline' });
  assert.equal(plan({ FER_BENCH_STEPS: '7', FER_FORCE: '1' }).runId, plan({}).runId);
  assert.ok(!('benchSteps' in plan({}).config) && !('force' in plan({}).config));
  assert.notEqual(plan({ FER_EPOCHS: '2' }).runId, plan({}).runId, 'a setting that changes training changes the id');
});

test("another paper's parameters stay out of a run's settings and id", async () => {
  const { planRun } = await import('../lib/experiments/runner');
  const plan = (method: string, env: Record<string, string>) => planRun({ config: loadConfig({ FER_PROFILE: 'smoke', ...env }), method });
  assert.equal(plan('spndl', { FER_DDL_EPOCHS: '9', FER_GNDL_LAMBDAS: '1' }).runId, plan('spndl', {}).runId);
  assert.notEqual(plan('spndl', { FER_SPNDL_FOLDS: '3' }).runId, plan('spndl', {}).runId, "the paper's own parameters count");
  const settings = plan('spndl', {}).config as unknown as Record<string, unknown>;
  assert.ok('spndlFolds' in settings && !('ddlEpochs' in settings) && !('idfermSubjects' in settings));
  assert.ok('synferConfound' in settings, 'shared data settings count for every paper');
});
