/**
 * Classification metrics from labels and predictions (plain arrays, no
 * tensors): accuracy, confusion matrix, per-class accuracy (recall), macro F1.
 * @see notebooks/02-spndl.ipynb
 */

/** counts[true][predicted] */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, numClasses: number): number[][] {
  if (labels.length !== predictions.length) throw new Error(`${labels.length} labels but ${predictions.length} predictions`);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i], p = predictions[i];
    if (!(y >= 0 && y < numClasses && p >= 0 && p < numClasses)) throw new Error(`sample ${i}: label ${y} or prediction ${p} is outside 0..${numClasses - 1}`);
    m[y][p]++;
  }
  return m;
}

export function accuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predictions[i]) correct++;
  return labels.length ? correct / labels.length : NaN;
}

/** Recall of each class; NaN for a class with no samples. */
export function perClassAccuracy(confusion: number[][]): number[] {
  return confusion.map((row, k) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n ? row[k] / n : NaN;
  });
}

/** Mean F1 over the classes that occur in labels or predictions. */
export function macroF1(confusion: number[][]): number {
  const f1s: number[] = [];
  confusion.forEach((row, k) => {
    const tp = row[k];
    const actual = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + r[k], 0);
    if (actual + predicted === 0) return;
    f1s.push((2 * tp) / (actual + predicted));
  });
  return f1s.length ? f1s.reduce((a, b) => a + b, 0) / f1s.length : NaN;
}
