/**
 * Paired comparison of two runs trained on the same folds (and seeds): the
 * per-(seed, fold) differences, a paired t-test, an exact sign test and a 95 %
 * confidence interval over them, and the one rule every notebook uses to say
 * whether a claim "A beats B" holds on our runs.
 * @see notebooks/02-spndl.ipynb
 */
import { finalAccuracies, type StoredRun } from '../results/store';
import { meanStd } from './stats';
import { pairedTTest, studentTQuantile } from './t-test';

/** The significance level of every verdict (two-sided). */
export const ALPHA = 0.05;

export interface PairedOptions {
  /**
   * What "A beats B" must clear, in the units of the differences (percentage points): the tests are of the
   * differences minus the margin. Default 0; a negative margin reads "A at least matches B within it".
   */
  margin?: number;
  /** The smallest gain above the margin worth having (default 1 point): a gain surely below it counts as 'no'. */
  minEffect?: number;
}

export interface PairedTest {
  /** the per-pair differences A − B, in the order they were paired */
  diffs: number[];
  /** mean and sample standard deviation of the differences (std 0 for a single pair) */
  mean: number;
  std: number;
  /** pairs (folds × seeds) */
  n: number;
  /** pairs with a difference above, below and equal to the margin */
  wins: number;
  losses: number;
  ties: number;
  /**
   * paired t statistic of (difference − margin), its degrees of freedom and two-sided p (NaN below 2 pairs).
   * Identical differences have no spread to test against (t = ±∞): p is then the sign test's, which needs
   * six agreeing pairs to reach p < 0.05, so two equal folds never decide a claim on their own
   */
  t: number;
  df: number;
  p: number;
  /** exact two-sided sign-test p over wins and losses (ties dropped); 1 without any */
  signP: number;
  /** 95 % confidence interval of the mean difference (t quantile; [NaN, NaN] below 2 pairs) */
  ci: [number, number];
  margin: number;
  minEffect: number;
  verdict: Verdict;
}

export type Verdict = 'yes' | 'no' | 'unclear' | 'not run';

/** P(X ≤ k) for X ~ Binomial(n, 1/2), by the term recurrence C(n, i + 1) = C(n, i) (n − i) / (i + 1). */
function binomialHalfCdf(k: number, n: number): number {
  let term = 0.5 ** n, sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term *= (n - i) / (i + 1);
  }
  return sum;
}

/** Exact two-sided sign test: twice the smaller binomial tail of `wins` against `losses`, at most 1. */
export function signTestP(wins: number, losses: number): number {
  const n = wins + losses;
  return n ? Math.min(1, 2 * binomialHalfCdf(Math.min(wins, losses), n)) : 1;
}

/** Mean ± t₀.₉₇₅ · std / √n; identical differences give a zero-width interval. */
function confidenceInterval(mean: number, std: number, n: number): [number, number] {
  if (n < 2) return [NaN, NaN];
  const half = studentTQuantile(1 - ALPHA / 2, n - 1) * (std / Math.sqrt(n));
  return [mean - half, mean + half];
}

/**
 * The verdict on "A beats B by more than the margin", from the paired t-test:
 * - 'yes' when the mean difference is above the margin and p < 0.05;
 * - 'no' when it is below the margin and p < 0.05, or when the whole 95 % interval lies below margin + minEffect
 *   (whatever A gains, it gains less than minEffect, with 95 % confidence);
 * - 'unclear' otherwise: the runs cannot tell; also with a single pair, which has no spread to test against;
 * - 'not run' without any pair.
 * A significant gain counts as 'yes' however small: minEffect only lets a precise null result say 'no'.
 */
function verdictOf(d: Omit<PairedTest, 'verdict'>): Verdict {
  if (d.n === 0) return 'not run';
  if (d.n === 1) return 'unclear';
  if (d.p < ALPHA && d.mean > d.margin) return 'yes';
  if (d.p < ALPHA && d.mean < d.margin) return 'no';
  if (d.ci[1] < d.margin + d.minEffect) return 'no';
  return 'unclear';
}

/** The paired tests over differences A − B (one per seed and fold) and the verdict of the shared rule. */
export function pairedTest(diffs: number[], opts: PairedOptions = {}): PairedTest {
  const margin = opts.margin ?? 0, minEffect = opts.minEffect ?? 1;
  const { mean, std } = meanStd(diffs);
  const n = diffs.length;
  const wins = diffs.filter((d) => d > margin).length, losses = diffs.filter((d) => d < margin).length;
  const t = pairedTTest(diffs.map((d) => d - margin));
  const signP = signTestP(wins, losses);
  const d = {
    diffs, mean, std, n, wins, losses, ties: n - wins - losses, t: t.t, df: t.df, p: n >= 2 && std === 0 ? signP : t.p,
    signP, ci: confidenceInterval(mean, std, n), margin, minEffect,
  };
  return { ...d, verdict: verdictOf(d) };
}

/**
 * Final test accuracy of `a` minus `b`, in percentage points, for every
 * (seed, fold) both have, and the paired tests over them; runs of several
 * seeds may be passed as lists.
 */
export function pairedDifference(
  a: StoredRun | StoredRun[], b: StoredRun | StoredRun[], opts: PairedOptions = {},
): PairedTest {
  const accuracies = (runs: StoredRun | StoredRun[]) => new Map([runs].flat()
    .flatMap((r) => finalAccuracies(r).map((x) => [`${r.config.seed}:${x.fold}`, 100 * x.test_acc] as const)));
  const accA = accuracies(a), accB = accuracies(b);
  return pairedTest([...accA].filter(([k]) => accB.has(k)).map(([k, v]) => v - accB.get(k)!), opts);
}

/** A p-value for a table: three decimals, '< 0.001' below that, 'n/a' when there is no test. */
export const formatP = (p: number) => (Number.isNaN(p) ? 'n/a' : p < 0.001 ? '< 0.001' : p.toFixed(3));

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/**
 * The one-line summary every claims table shows, e.g. `+3.2 ± 1.1 pts (5/5 folds better, p = 0.002)`:
 * mean ± sample std of the differences, how many pairs came out above the margin (and how many level), the t-test's p.
 */
export function formatPaired(d: PairedTest, opts: { unit?: string; pairs?: string; digits?: number } = {}): string {
  const { unit = 'pts', pairs = 'folds', digits = 1 } = opts;
  if (!d.n) return 'not run';
  const better = d.margin === 0 ? 'better' : `above ${signed(d.margin, digits)}`;
  const p = formatP(d.p);
  const test = d.n < 2 ? 'one pair: no test' : p.startsWith('<') ? `p ${p}` : `p = ${p}`;
  const tied = d.ties ? `, ${d.ties} tied` : '';
  return `${signed(d.mean, digits)} ± ${d.std.toFixed(digits)} ${unit} (${d.wins}/${d.n} ${pairs} ${better}${tied}, ${test})`;
}
