/**
 * Identity leakage of expression features: how well a linear probe
 * (./linear-probe.ts) names the subject of a face from the features a method
 * classifies expressions with. The probe is fitted on some expressions of
 * each test subject and scored on that subject's other expressions, so it
 * must recognise people across expressions: a feature that holds only the
 * expression scores near chance (1 / subjects), one that still carries who
 * the person is scores high. Lower is better disentangled.
 * @see notebooks/06-comparison.ipynb
 */
import { rng, shuffled } from '../data/random';
import { linearProbe, type ProbeOptions } from './linear-probe';

export interface IdentitySplit {
  /** samples the probe is fitted on */
  train: Int32Array;
  /** held-out samples of the same subjects, other expressions */
  test: Int32Array;
  /** subjects in both halves */
  subjects: string[];
}

/**
 * Splits `samples` per subject by expression: a seeded half of each
 * subject's expressions (rounded up) trains the probe, the rest tests it.
 * Subjects with a single expression cannot be split and are left out.
 */
export function identitySplit(samples: ArrayLike<number>, subjects: readonly string[], labels: ArrayLike<number>, seed: number): IdentitySplit {
  const bySubject = new Map<string, Map<number, number[]>>();
  for (const s of Array.from(samples)) {
    const subj = subjects[s];
    if (subj === undefined) throw new Error(`identity split: sample ${s} has no subject (${subjects.length} subjects given)`);
    const m = bySubject.get(subj) ?? new Map<number, number[]>();
    bySubject.set(subj, m);
    m.set(labels[s], [...(m.get(labels[s]) ?? []), s]);
  }
  const train: number[] = [], test: number[] = [], kept: string[] = [];
  for (const subj of [...bySubject.keys()].sort()) {
    const byLabel = bySubject.get(subj)!;
    if (byLabel.size < 2) continue;
    const order = shuffled(rng(seed, 'identity-split', subj), [...byLabel.keys()].sort((a, b) => a - b));
    const cut = Math.ceil(order.length / 2);
    order.forEach((label, i) => (i < cut ? train : test).push(...byLabel.get(label)!));
    kept.push(subj);
  }
  if (kept.length < 2) throw new Error(`identity split: ${kept.length} subject(s) with at least 2 expressions; the probe needs 2 or more`);
  return { train: Int32Array.from(train), test: Int32Array.from(test), subjects: kept };
}

export interface LeakageResult {
  /** probe accuracy on the held-out expressions of the same subjects */
  accuracy: number;
  /** 1 / subjects: a probe that learnt nothing */
  chance: number;
  subjects: number;
  train: number;
  test: number;
}

/**
 * Identity-probe accuracy of features `[n, dim]` (row r belongs to sample
 * `rows[r]`): the probe is fitted on `split.train` and scored on `split.test`.
 */
export async function identityLeakage(features: Float32Array, dim: number, rows: ArrayLike<number>, subjects: readonly string[], split: IdentitySplit, opts: ProbeOptions = {}): Promise<LeakageResult> {
  if (features.length !== rows.length * dim) throw new Error(`identity leakage: ${features.length} feature values for ${rows.length} rows of dim ${dim}`);
  const rowOf = new Map(Array.from(rows, (s, r) => [s, r] as const));
  const ids = new Map(split.subjects.map((s, i) => [s, i] as const));
  const labels = Array.from(rows, (s) => ids.get(subjects[s]) ?? -1);
  const at = (samples: Int32Array) => Array.from(samples, (s) => {
    const r = rowOf.get(s);
    if (r === undefined) throw new Error(`identity leakage: sample ${s} of the split has no feature row`);
    return r;
  });
  const [train, test] = [at(split.train), at(split.test)];
  const probe = await linearProbe(features, dim, labels, train, test, opts);
  return { accuracy: probe.testAccuracy, chance: 1 / split.subjects.length, subjects: split.subjects.length, train: probe.train, test: probe.test };
}
