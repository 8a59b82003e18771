/**
 * How hard is a set before any network? A nearest-class-mean classifier on
 * raw pixels, cross-validated over subject-independent folds, fed either the
 * target image or the target minus its neutral reference. When identity
 * swamps expression (the premise of all four papers) the first is weak and
 * the second much stronger.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { FerSet } from './dataset';

/** Pooled accuracy of a nearest-class-mean pixel classifier over the given folds. */
export function nearestMeanAccuracy(set: FerSet, folds: number[], input: 'target' | 'difference'): number {
  if (input === 'difference' && !set.neutral) throw new Error(`dataset '${set.name}' has no neutral references for a difference probe`);
  const per = set.size * set.size * set.channels, k = set.classes.length;
  const x = (i: number, out: Float32Array) => {
    for (let j = 0; j < per; j++) out[j] = set.images[i * per + j] - (input === 'difference' ? set.neutral![i * per + j] : 0);
  };
  const buf = new Float32Array(per);
  let correct = 0;
  for (const fold of [...new Set(folds)].sort((a, b) => a - b)) {
    const means = Array.from({ length: k }, () => new Float64Array(per));
    const counts = new Array(k).fill(0);
    folds.forEach((f, i) => {
      if (f === fold) return;
      x(i, buf);
      const m = means[set.labels[i]];
      for (let j = 0; j < per; j++) m[j] += buf[j];
      counts[set.labels[i]]++;
    });
    means.forEach((m, c) => { if (counts[c]) for (let j = 0; j < per; j++) m[j] /= counts[c]; });
    folds.forEach((f, i) => {
      if (f !== fold) return;
      x(i, buf);
      let best = -1, bestD = Infinity;
      means.forEach((m, c) => {
        if (!counts[c]) return;
        let d = 0;
        for (let j = 0; j < per; j++) d += (buf[j] - m[j]) ** 2;
        if (d < bestD) { bestD = d; best = c; }
      });
      if (best === set.labels[i]) correct++;
    });
  }
  return correct / folds.length;
}
