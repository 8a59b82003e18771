/**
 * Tables that describe a loaded set: samples per class, and what each
 * cross-validation fold holds. Plain records, ready for a danfojs
 * DataFrame or showTable.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { FerSet } from './dataset';

/** Per class: samples, subjects and sequences. */
export function classCounts(set: FerSet): Record<string, string | number>[] {
  return set.classes.map((name, c) => {
    const idx = [...set.labels.keys()].filter((i) => set.labels[i] === c);
    return {
      class: name, samples: idx.length,
      subjects: new Set(idx.map((i) => set.subjects[i])).size,
      sequences: new Set(idx.map((i) => `${set.subjects[i]}|${set.rows[i].sequence}`)).size,
    };
  });
}

/** Per fold: subjects, samples, and samples of each class. */
export function foldCounts(set: FerSet, folds: number[]): Record<string, string | number>[] {
  const k = Math.max(...folds) + 1;
  return Array.from({ length: k }, (_, f) => {
    const idx = folds.flatMap((x, i) => (x === f ? [i] : []));
    const row: Record<string, string | number> = { fold: f, subjects: new Set(idx.map((i) => set.subjects[i])).size, samples: idx.length };
    set.classes.forEach((name, c) => (row[name] = idx.filter((i) => set.labels[i] === c).length));
    return row;
  });
}
