import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../lib/backend';
import { loadConfig } from '../lib/config';
import { baselineMethod } from '../lib/experiments/baseline';
import { resolveRunConfig } from '../lib/experiments/settings';
import { paceEpochsFor, paceOfEpoch, paceRows, selectPerClass, validateSchedule } from '../lib/train/spl';
import { trainFold } from '../lib/train/trainer';
import { tinySet } from './tiny-set';

before(async () => { await initBackend(); });

test('each class keeps ceil(rho * n_k) of its lowest losses, ties broken by position', () => {
  // class sizes 10, 7, 3; losses descending within each class so the selection is not just "the first ones"
  const labels = [...new Array(10).fill(0), ...new Array(7).fill(1), ...new Array(3).fill(2)];
  const losses = labels.map((_, i) => 100 - i);
  losses[18] = losses[19]; // a tie in class 2
  const s = selectPerClass(losses, labels, 0.5, 3);
  assert.deepEqual(s.selectedCount, [5, 4, 2]);
  assert.deepEqual(s.classCount, [10, 7, 3]);
  assert.deepEqual(s.selected.map((v, i) => (v ? i : -1)).filter((i) => i >= 0), [5, 6, 7, 8, 9, 13, 14, 15, 16, 18, 19]);
  assert.deepEqual(s.thresholds, [95, 87, 81]);
  // 0.7 * 10 is 7.000000000000001 in floating point: still 7, not 8
  assert.equal(selectPerClass(losses, labels, 0.7, 3).selectedCount[0], 7);
  assert.ok(selectPerClass(losses, labels, 1, 3).selected.every(Boolean));
  // a tiny share still keeps one sample of every class; an absent class is reported, not invented
  assert.deepEqual(selectPerClass(losses, labels, 0.01, 4).selectedCount, [1, 1, 1, 0]);
  assert.throws(() => selectPerClass([NaN], [0], 0.5, 1), /NaN loss/);
});

test('pace schedule: the paper ratio, epochs mapped to paces, bad schedules named', () => {
  assert.deepEqual(paceEpochsFor(250), [30, 30, 30, 30, 30, 100]);
  assert.deepEqual(paceEpochsFor(25), [3, 3, 3, 3, 3, 10]);
  assert.deepEqual(paceEpochsFor(1), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual([1, 2, 3, 4].map((e) => paceOfEpoch([1, 2, 1], e)), [
    { pace: 1, starts: true }, { pace: 2, starts: true }, { pace: 2, starts: false }, { pace: 3, starts: true }]);
  assert.throws(() => validateSchedule({ rho: [0.5, 0.9], paceEpochs: [1, 1] }), /splRho must end with 1/);
  assert.throws(() => validateSchedule({ rho: [0.6, 0.5, 1], paceEpochs: [1, 1, 1] }), /splRho must not decrease/);
  assert.throws(() => validateSchedule({ rho: [0.5, 1], paceEpochs: [1] }), /splPaceEpochs has 1/);
  assert.throws(() => validateSchedule({ rho: [0.5, 1], paceEpochs: [1, 0] }), /splPaceEpochs\[1\] = 0/);
});

test('an SPL run trains each pace on the per-class selection, ends with every sample, and records its history', async () => {
  const set = tinySet();
  const train = Int32Array.from(set.labels.keys()).filter((i) => set.subjects[i] !== 'S0');
  const test_ = Int32Array.from(set.labels.keys()).filter((i) => set.subjects[i] === 'S0');
  const config = resolveRunConfig(loadConfig({ FER_PROFILE: 'smoke' }, { batchSize: 8, splRho: '0.5,0.75,1', splPaceEpochs: '1,2,1' }), baselineMethod, 'spl');
  assert.equal(config.totalEpochs, 4);
  const r = await trainFold({ method: baselineMethod, config, set, split: { fold: 0, train, test: test_ }, progress: null });
  const perClass = train.length / 3; // 10 per class
  assert.deepEqual(r.spl.map((p) => [p.pace, p.epoch, p.rho]), [[1, 1, 0.5], [2, 2, 0.75], [3, 4, 1]]);
  for (const p of r.spl) {
    assert.equal(p.samples.length, train.length, 'every training sample is ranked at every pace');
    for (let k = 0; k < 3; k++) {
      const chosen = p.samples.filter((_, i) => p.selected[i] && p.labels[i] === k).length;
      assert.equal(chosen, Math.ceil(p.rho * perClass - 1e-9), `pace ${p.pace} class ${k}`);
      // the selected ones are the lowest losses of their class
      const lossesK = p.losses.filter((_, i) => p.labels[i] === k);
      const maxSel = Math.max(...p.losses.filter((_, i) => p.selected[i] && p.labels[i] === k));
      const minOut = Math.min(...p.losses.filter((_, i) => !p.selected[i] && p.labels[i] === k));
      assert.ok(lossesK.length === chosen || maxSel <= minOut);
    }
  }
  assert.deepEqual(r.rows.map((row) => [row.pace, row.n_train]), [[1, 15], [2, 24], [2, 24], [3, 30]]);
  const rows = paceRows(r.spl, { fold: 0 });
  assert.equal(rows.length, 3 * train.length);
  assert.deepEqual(Object.keys(rows[0]), ['fold', 'pace', 'epoch', 'rho', 'sample', 'label', 'loss', 'selected', 'threshold']);
});
