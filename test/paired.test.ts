// One paired test and one rule decide every "does the paper's claim hold on our runs" verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPaired, pairedDifference, pairedTest, signTestP } from '../lib/analysis/paired';
import { studentTCdf, studentTQuantile } from '../lib/analysis/t-test';
import type { StoredRun } from '../lib/results/store';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < tol, `${what}: ${actual}, expected ${expected}`);

test('the sign test is the exact two-sided binomial tail, ties dropped', () => {
  close(signTestP(5, 0), 2 / 32, 1e-15, '5 of 5');
  close(signTestP(1, 9), (2 * (1 + 10)) / 1024, 1e-15, '1 of 10');
  close(signTestP(15, 5), (2 * (1 + 20 + 190 + 1140 + 4845 + 15504)) / 2 ** 20, 1e-15, '15 of 20');
  assert.equal(signTestP(4, 4), 1, 'a tie of wins and losses is capped at 1');
  assert.equal(signTestP(0, 0), 1, 'no untied pair: no evidence');
  const d = pairedTest([2, 0, 3, -1, 0, 4]);
  assert.deepEqual([d.wins, d.losses, d.ties], [3, 1, 2]);
  close(d.signP, signTestP(3, 1), 1e-15, 'ties are left out of the sign test');
  assert.match(formatPaired(d), /\(3\/6 folds better, 2 tied, p = /);
});

test('the t quantile inverts the Student t CDF (t-table values)', () => {
  for (const [df, t] of [[1, 12.7062], [2, 4.3027], [4, 2.7764], [10, 2.2281], [30, 2.0423]]) {
    close(studentTQuantile(0.975, df), t, 1e-4, `t 0.975, df ${df}`);
    close(studentTQuantile(0.025, df), -t, 1e-4, `t 0.025, df ${df}`);
  }
  close(studentTCdf(studentTQuantile(0.9, 7), 7), 0.9, 1e-12, 'round trip');
  assert.throws(() => studentTQuantile(1, 4), /prob=1/);
});

test('the paired t-test and its 95 % interval: diffs 1..5 give t = 4.243, p = 0.0132 on 4 df', () => {
  const d = pairedTest([1, 2, 3, 4, 5]);
  assert.deepEqual([d.n, d.df, d.mean, d.wins, d.losses, d.ties], [5, 4, 3, 5, 0, 0]);
  close(d.std, Math.sqrt(2.5), 1e-12, 'sample std');
  close(d.t, 4.2426, 1e-4, 't');
  close(d.p, 0.013236, 1e-6, 'two-sided p');
  close(d.ci[0], 3 - 1.963243, 1e-6, 'lower bound');
  close(d.ci[1], 3 + 1.963243, 1e-6, 'upper bound');
  close(d.signP, 0.0625, 1e-15, 'sign test');
  assert.equal(formatPaired(d), '+3.0 ± 1.6 pts (5/5 folds better, p = 0.013)');
  assert.equal(pairedTest([-1, -2, -3, -4, -5]).p, d.p, 'two-sided');
});

test('the verdict rule reaches every outcome', () => {
  const verdict = (diffs: number[], opts = {}) => pairedTest(diffs, opts).verdict;
  assert.equal(verdict([1, 2, 3, 4, 5]), 'yes', 'above 0 with p < 0.05');
  assert.equal(verdict([0.1, 0.2, 0.15, 0.1]), 'yes', 'a significant gain counts however small');
  assert.equal(verdict([-1, -2, -3, -4, -5]), 'no', 'below 0 with p < 0.05');
  const level = pairedTest([0.2, -0.1, 0.1, 0, -0.2]);
  assert.ok(level.p > 0.05 && level.ci[1] < 1, 'not significant, interval below the 1-point minimum effect');
  assert.equal(level.verdict, 'no', 'any gain is smaller than minEffect');
  assert.equal(verdict([0.2, -0.1, 0.1, 0, -0.2], { minEffect: 0.1 }), 'unclear', 'the interval reaches a 0.1-point gain');
  assert.equal(verdict([5, -4, 1]), 'unclear', 'spread too wide to tell');
  assert.equal(verdict([5]), 'unclear', 'one pair has no spread');
  assert.equal(verdict([]), 'not run');
  assert.equal(formatPaired(pairedTest([])), 'not run');
  assert.equal(formatPaired(pairedTest([5])), '+5.0 ± 0.0 pts (1/1 folds better, one pair: no test)');
});

test('a margin shifts what the tests compare with: "at least matches within 0.5"', () => {
  const diffs = [-0.3, -0.2, -0.1, -0.2, -0.3];
  assert.equal(pairedTest(diffs).verdict, 'no', 'consistently a little worse');
  const d = pairedTest(diffs, { margin: -0.5, minEffect: 0 });
  assert.equal(d.verdict, 'yes', 'but within 0.5 points');
  assert.equal(d.wins, 5, 'wins count against the margin');
  close(d.mean, -0.22, 1e-12, 'the mean stays the raw difference');
  assert.match(formatPaired(d), /^-0\.2 ± 0\.1 pts \(5\/5 folds above -0\.5, p = 0\.002\)$/);
  const worse = pairedTest([-0.6, -0.7, -0.8, -0.7, -0.6], { margin: -0.5, minEffect: 0 });
  assert.equal(worse.verdict, 'no', 'surely more than 0.5 worse');
});

test('identical differences: no spread to test against, so the sign test decides; a zero-width interval', () => {
  const d = pairedTest([2, 2, 2]);
  assert.deepEqual([d.t, d.p, d.ci, d.verdict], [Infinity, 0.25, [2, 2], 'unclear'], 'three agreeing folds are not enough');
  assert.deepEqual([pairedTest([2, 2, 2, 2, 2, 2]).p, pairedTest([2, 2, 2, 2, 2, 2]).verdict], [0.03125, 'yes']);
  assert.equal(pairedTest([0, 0, 0]).verdict, 'no', 'exactly level: no gain at all');
});

test('runs are paired by seed and fold, final epoch, in percentage points', () => {
  const run = (seed: number, rows: [number, number, number][]) => ({
    config: { seed }, results: { columns: ['fold', 'epoch', 'test_acc'], values: rows },
  }) as unknown as StoredRun;
  // folds 0 and 1; the last epoch counts
  const a = [run(1, [[0, 1, 0.1], [0, 2, 0.5], [1, 2, 0.4]]), run(2, [[0, 2, 0.6]])];
  const b = [run(1, [[0, 2, 0.3], [1, 2, 0.4]]), run(3, [[0, 2, 0.1]])];
  const d = pairedDifference(a, b);
  assert.equal(d.n, 2, 'seed 2 and seed 3 have no partner');
  assert.ok(Math.abs(d.mean - 10) < 1e-9);
  assert.deepEqual([d.wins, d.ties], [1, 1]);
  assert.equal(pairedDifference(a, b, { margin: 5 }).margin, 5, 'options reach the test');
});
