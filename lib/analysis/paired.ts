/**
 * Paired comparison of two variants trained on the same folds (and seeds):
 * the per-fold differences of their final test accuracy, and the one rule
 * every paper notebook uses to say whether a claim holds on our runs.
 * @see notebooks/02-spndl.ipynb
 */
import { finalAccuracies, type StoredRun } from '../results/store';
import { meanStd } from './stats';

export interface PairedDifference {
  /** mean difference, in the units of the inputs (percentage points below) */
  mean: number;
  /** sample standard deviation of the differences (0 for a single pair) */
  std: number;
  /** number of pairs (folds x seeds) */
  n: number;
  /** pairs where the first variant did better */
  wins: number;
}

export function summarizeDifferences(diffs: number[]): PairedDifference {
  return { ...meanStd(diffs), n: diffs.length, wins: diffs.filter((d) => d > 0).length };
}

/**
 * Final test accuracy of `a` minus `b`, in percentage points, for every
 * (seed, fold) both have; runs of several seeds may be passed as lists.
 */
export function pairedDifference(a: StoredRun | StoredRun[], b: StoredRun | StoredRun[]): PairedDifference {
  const accuracies = (runs: StoredRun | StoredRun[]) => new Map((Array.isArray(runs) ? runs : [runs])
    .flatMap((r) => finalAccuracies(r).map((x) => [`${r.config.seed}:${x.fold}`, 100 * x.test_acc] as const)));
  const accA = accuracies(a), accB = accuracies(b);
  return summarizeDifferences([...accA].filter(([k]) => accB.has(k)).map(([k, v]) => v - accB.get(k)!));
}

export type Verdict = 'yes' | 'no' | 'unclear' | 'not run';

/**
 * Whether "a beats b by more than `margin`" holds: 'yes' when the mean
 * difference clears the margin by more than its spread over folds, 'no' when
 * it falls short by more than its spread, 'unclear' in between (the runs
 * cannot tell). A negative margin reads "a at least matches b within it".
 */
export function pairedVerdict(d: PairedDifference, margin = 0): Verdict {
  if (!d.n) return 'not run';
  if (d.mean - d.std > margin) return 'yes';
  if (d.mean + d.std < margin) return 'no';
  return 'unclear';
}
