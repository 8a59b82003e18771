/**
 * The paired t-test across folds: is the mean per-fold difference between
 * two methods trained on the same folds distinguishable from zero? Student's
 * t distribution through the regularised incomplete beta function
 * (continued fraction, modified Lentz), since no statistics package is
 * installed; checked against closed forms and t-table values in
 * test/comparison.test.ts.
 * @see notebooks/06-comparison.ipynb
 */
import { meanStd } from './stats';

const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x=${x} must be positive`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection keeps the series accurate
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of I_x(a, b) (Numerical Recipes' betacf), by the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let step = 1;
    for (const num of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + num * d; // even step, then odd step
      if (Math.abs(d) < tiny) d = tiny;
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      step = d * c;
      h *= step;
    }
    if (Math.abs(step - 1) < 1e-15) return h;
  }
  throw new Error(`incomplete beta: no convergence for x=${x}, a=${a}, b=${b}`);
}

/** The regularised incomplete beta function I_x(a, b), 0 ≤ x ≤ 1, a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new Error(`incomplete beta: a=${a} and b=${b} must be positive`);
  if (!(x >= 0 && x <= 1)) throw new Error(`incomplete beta: x=${x} must lie in [0, 1]`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  // the fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) beyond
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(x, a, b)) / a
    : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Two-sided tail probability P(|T| ≥ |t|) of Student's t with `df` degrees of freedom. */
export function studentTTwoSided(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`Student t: df=${df} must be positive`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** P(T ≤ t) of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = studentTTwoSided(t, df) / 2;
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The t with P(T ≤ t) = `prob` under Student's t with `df` degrees of freedom, by bisection on studentTCdf
 * (monotone, so 200 halvings of a bracket that doubles until it holds the root pin t to the last bit).
 */
export function studentTQuantile(prob: number, df: number): number {
  if (!(prob > 0 && prob < 1)) throw new Error(`Student t quantile: prob=${prob} must lie in (0, 1)`);
  if (prob === 0.5) return 0;
  let hi = 1;
  while (studentTCdf(hi, df) < Math.max(prob, 1 - prob)) hi *= 2;
  let lo = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < Math.max(prob, 1 - prob)) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return prob > 0.5 ? t : -t;
}

export interface TTest {
  /** pairs */
  n: number;
  df: number;
  /** mean and sample std of the differences */
  mean: number;
  std: number;
  t: number;
  /** two-sided p-value; NaN with fewer than 2 pairs */
  p: number;
}

/**
 * Paired t-test of differences d_i = a_i − b_i against a mean of 0:
 * t = mean / (std / √n), n − 1 degrees of freedom, two-sided p. Identical
 * non-zero differences give t = ±∞ and p = 0; all-zero differences t = 0, p = 1.
 */
export function pairedTTest(diffs: ArrayLike<number>): TTest {
  const n = diffs.length;
  const { mean, std } = meanStd(diffs);
  if (n < 2) return { n, df: Math.max(0, n - 1), mean, std, t: NaN, p: NaN };
  const t = std > 0 ? mean / (std / Math.sqrt(n)) : mean === 0 ? 0 : Math.sign(mean) * Infinity;
  return { n, df: n - 1, mean, std, t, p: studentTTwoSided(t, n - 1) };
}
