// Notebook 05's leakage verdict: probes on every fold, paired per (seed, fold, factor), judged by the shared rule.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { leakageClaim, leakageProbe, type ProbeRow } from '../lib/experiments/ddl-report';
import { runExperiment } from '../lib/experiments/runner';
import { tinyFolds, tinySet } from './tiny-set';

before(async () => { await initBackend(); });

/** Probe rows of one variant: probe − chance per (fold, factor) given, chance 20 %. */
const rows = (variant: string, leak: number[][], feature = 'fe', seed = 1): ProbeRow[] =>
  leak.flatMap((perFactor, fold) => perFactor.map((x, i) => ({
    variant, seed, fold, feature, factor: ['pose', 'illumination', 'gender'][i], classes: 3, probeAcc: 20 + x, chance: 20,
  })));

test('the leakage claim pairs Baseline_mat and DDL per (seed, fold, factor) and takes the shared verdict', () => {
  const base = rows('baseline-mat', [[30, 20, 10], [32, 18, 12]]);
  const lessLeaky = rows('ddl-x', [[25, 14, 6], [26, 13, 7]]);
  const c = leakageClaim([...base, ...lessLeaky, ...rows('ddl-x', [[0, 0, 0]], 'fd')], 'baseline-mat', 'ddl-x');
  assert.equal(c.holds, 'yes', c.ours);
  assert.match(c.ours, /^\+5\.2 ± 0\.8 pts \(6\/6 seed × fold × factor pairs better, p < 0\.001\)/, 'f^d rows left out');
  assert.equal(c.p, '< 0.001');
  const moreLeaky = rows('ddl-x', [[35, 26, 15], [37, 23, 17]]);
  assert.equal(leakageClaim([...base, ...moreLeaky], 'baseline-mat', 'ddl-x').holds, 'no', 'more leaky');
  const noisy = rows('ddl-x', [[40, 10, 5], [20, 30, 0]]);
  assert.equal(leakageClaim([...base, ...noisy], 'baseline-mat', 'ddl-x').holds, 'unclear');
  const otherSeed = rows('ddl-x', [[25, 14, 6], [26, 13, 7]], 'fe', 2);
  assert.equal(leakageClaim([...base, ...otherSeed], 'baseline-mat', 'ddl-x').holds, 'not run', 'no pair shares a seed');
  assert.equal(leakageClaim([], 'baseline-mat', 'ddl-x').ours, 'not run');
});

test('the leakage probe runs on every fold of a stored run, one row per fold, feature and factor', async () => {
  const set = tinySet();
  set.rows.forEach((r, i) => { r.pose_bin = String(i % 3); });
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-ddl-report-'));
  try {
    const config = loadConfig({ FER_PROFILE: 'smoke' }, { epochs: 1, batchSize: 8, folds: 2 });
    const foldOf = tinyFolds(set, 2);
    const run = await runExperiment({ config, method: 'baseline', set, foldOf, resultsDir, progress: null });
    const probe = await leakageProbe(run, set, ['p'], resultsDir);
    assert.deepEqual(probe.map((r) => [r.fold, r.feature, r.factor]), [[0, 'backbone', 'pose'], [1, 'backbone', 'pose']]);
    assert.ok(probe.every((r) => r.seed === config.seed && r.probeAcc >= 0 && r.probeAcc <= 100 && r.classes === 3));
    assert.deepEqual(await leakageProbe(run, set, [], resultsDir), [], 'no factor, no probe (real data)');
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
});
