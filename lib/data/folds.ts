/**
 * Evaluation protocols: subject-independent k-fold cross-validation and
 * official train/test splits.
 *
 * Fold rule (none of the papers publishes its assignment): sort the subject
 * ids, shuffle them with the seed, then give each subject, largest sample
 * count first, to the fold with the fewest samples so far (ties: fewest
 * subjects, then lowest index). With equal counts per subject this is a
 * seeded round-robin; with unequal counts the fold sizes stay balanced.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { ManifestRow } from './manifest';
import { rng, shuffled } from './random';

/**
 * Fold index (0..k-1) of every sample; all samples of a subject share a fold.
 * @param subjects subject id per sample
 */
export function subjectFolds(subjects: string[], k: number, seed: number): number[] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`folds=${k}: need an integer of at least 2`);
  const counts = new Map<string, number>();
  for (const s of subjects) counts.set(s, (counts.get(s) ?? 0) + 1);
  if (k > counts.size) throw new Error(`folds=${k} is more than the ${counts.size} subjects in the data; every fold needs at least one subject`);
  const order = shuffled(rng(seed, 'folds'), [...counts.keys()].sort());
  // Stable sort by count, descending: the shuffle breaks ties.
  const bySize = order.map((s, i) => ({ s, i, n: counts.get(s)! })).sort((a, b) => b.n - a.n || a.i - b.i);
  const samples = new Array(k).fill(0), members = new Array(k).fill(0);
  const foldOf = new Map<string, number>();
  for (const { s, n } of bySize) {
    let best = 0;
    for (let f = 1; f < k; f++) {
      if (samples[f] < samples[best] || (samples[f] === samples[best] && members[f] < members[best])) best = f;
    }
    foldOf.set(s, best);
    samples[best] += n;
    members[best]++;
  }
  return subjects.map((s) => foldOf.get(s)!);
}

/** Sample indices of the training and test part of fold `fold`. */
export function foldIndices(folds: number[], fold: number): { train: Int32Array; test: Int32Array } {
  const train: number[] = [], test: number[] = [];
  folds.forEach((f, i) => (f === fold ? test : train).push(i));
  if (!test.length) throw new Error(`fold ${fold} has no samples (folds run 0..${Math.max(...folds)})`);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/**
 * The official split of a dataset that has one (RAF-DB, SFEW, SynFER wild):
 * the manifest's `split` column, 'train' or 'test' on every row.
 */
export function officialSplit(rows: ManifestRow[]): { train: Int32Array; test: Int32Array } {
  const train: number[] = [], test: number[] = [];
  rows.forEach((r, i) => {
    const v = r.split;
    if (v === undefined || v === '') throw new Error(`row ${i + 2} (${r.path}): no 'split' value; this dataset has no official split, use subjectFolds`);
    if (v !== 'train' && v !== 'test') throw new Error(`row ${i + 2} (${r.path}): split '${v}' must be 'train' or 'test'`);
    (v === 'train' ? train : test).push(i);
  });
  if (!train.length || !test.length) throw new Error(`official split has ${train.length} train and ${test.length} test rows; both must be non-empty`);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
