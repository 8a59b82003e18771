// One rule decides every "does the paper's claim hold on our runs" verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedDifference, pairedVerdict, summarizeDifferences } from '../lib/analysis/paired';
import type { StoredRun } from '../lib/results/store';

test('verdicts: yes/no only when the mean clears the margin by more than its spread', () => {
  assert.equal(pairedVerdict(summarizeDifferences([2, 3, 4])), 'yes');
  assert.equal(pairedVerdict(summarizeDifferences([-2, -3, -4])), 'no');
  assert.equal(pairedVerdict(summarizeDifferences([5, -4, 1])), 'unclear');
  assert.equal(pairedVerdict(summarizeDifferences([-0.3, -0.1, 0.1])), 'unclear', 'slightly worse but within noise');
  assert.equal(pairedVerdict(summarizeDifferences([-0.3, -0.1, 0.1]), -0.5), 'yes', 'at least matches within 0.5');
  assert.equal(pairedVerdict(summarizeDifferences([])), 'not run');
  const d = summarizeDifferences([1, 2, 3, 6]);
  assert.deepEqual({ ...d, std: Number(d.std.toFixed(4)) }, { mean: 3, std: 2.1602, n: 4, wins: 4 });
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
  assert.equal(d.wins, 1);
});
