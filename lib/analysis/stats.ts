/**
 * The summary statistics the notebooks report: mean and sample standard
 * deviation (n − 1, the spread of a handful of folds or seeds).
 */

/** Arithmetic mean; NaN for no values. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function sampleStd(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export const meanStd = (xs: ArrayLike<number>) => ({ mean: mean(xs), std: sampleStd(xs) });
