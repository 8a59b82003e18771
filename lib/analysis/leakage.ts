/**
 * Identity leakage of expression features: how well a linear probe
 * (./linear-probe.ts) names the subject of a face from the features a method
 * classifies expressions with. The probe is fitted on some expressions of
 * each test subject and scored on that subject's other expressions, so it
 * must recognise people across expressions: a feature that holds only the
 * expression scores near chance (1 / subjects), one that still carries who
 * the person is scores high. Lower is better disentangled.
 *
 * Features of different sizes are compared in one size: a probe's reach
 * grows with the dimension it reads (a 64-d vector gives the logistic
 * regression twice the weights of a 32-d one on the same few dozen training
 * faces), so a wider feature would look leakier for that alone.
 * principalProjection maps every feature onto its top-k principal directions,
 * fitted on the probe's training faces only.
 * @see notebooks/06-comparison.ipynb
 */
import { gaussian, rng, shuffled } from '../data/random';
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

/**
 * Gram–Schmidt on the columns of a row-major [rows, cols] matrix, in place, twice over for accuracy. A column with
 * (almost) nothing left once the earlier ones are taken out is zeroed: the data have fewer directions than columns.
 */
function orthonormalizeColumns(a: Float64Array, rows: number, cols: number): void {
  const dot = (i: number, j: number) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += a[r * cols + i] * a[r * cols + j];
    return s;
  };
  for (let j = 0; j < cols; j++) {
    const before = Math.sqrt(dot(j, j));
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < j; i++) {
        const c = dot(i, j);
        for (let r = 0; r < rows; r++) a[r * cols + j] -= c * a[r * cols + i];
      }
    }
    const norm = Math.sqrt(dot(j, j));
    const scale = norm > 1e-9 * before && norm > 0 ? 1 / norm : 0;
    for (let r = 0; r < rows; r++) a[r * cols + j] *= scale;
  }
}

/** [m, d] × [d, k] -> [m, k], and with `transposeA` [m, d]ᵀ × [m, k] -> [d, k] (row-major). */
function matMul(a: Float64Array, b: Float64Array, m: number, d: number, k: number, transposeA = false): Float64Array {
  const out = new Float64Array((transposeA ? d : m) * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) {
    const x = a[i * d + j];
    if (x === 0) continue;
    const [src, dst] = transposeA ? [i * k, j * k] : [j * k, i * k];
    for (let c = 0; c < k; c++) out[dst + c] += x * b[src + c];
  }
  return out;
}

/**
 * Every row of `features` [n, dim] projected onto the top-`k` principal directions of the rows `fit` (centred on
 * their mean): [n, k]. The directions come from orthogonal iteration, Q ← orth(Xᵀ X Q), from a seeded random
 * start; a fixed number of steps keeps it deterministic. PCA rather than a random projection: it keeps the
 * directions along which the feature varies most instead of whichever a seed happens to draw. With fewer than
 * k directions in the data the extra columns are zero.
 */
export function principalProjection(features: Float32Array, dim: number, fit: ArrayLike<number>, k: number,
  opts: { seed?: number; iterations?: number } = {}): Float32Array {
  const n = features.length / dim, m = fit.length;
  if (!Number.isInteger(n) || !(k >= 1 && k <= dim)) {
    throw new Error(`principal projection: ${features.length} values of dim ${dim} to k=${k}`);
  }
  const mean = new Float64Array(dim);
  for (const r of Array.from(fit)) for (let j = 0; j < dim; j++) mean[j] += features[r * dim + j] / m;
  const centred = (rows: ArrayLike<number>) => {
    const out = new Float64Array(rows.length * dim);
    Array.from(rows).forEach((r, i) => {
      for (let j = 0; j < dim; j++) out[i * dim + j] = features[r * dim + j] - mean[j];
    });
    return out;
  };
  const x = centred(fit);
  const draw = rng(opts.seed ?? 1, 'principal-projection');
  let q = Float64Array.from({ length: dim * k }, () => gaussian(draw));
  orthonormalizeColumns(q, dim, k);
  for (let step = 0; step < (opts.iterations ?? 40); step++) {
    q = matMul(x, matMul(x, q, m, dim, k), m, dim, k, true);
    orthonormalizeColumns(q, dim, k);
  }
  return Float32Array.from(matMul(centred(Array.from({ length: n }, (_, i) => i)), q, n, dim, k));
}

export interface LeakageResult {
  /** probe accuracy on the held-out expressions of the same subjects */
  accuracy: number;
  /** 1 / subjects: a probe that learnt nothing */
  chance: number;
  subjects: number;
  train: number;
  test: number;
  /** the dimension the probe read: the feature's own, or the `dimension` it was projected to */
  dim: number;
}

/**
 * Identity-probe accuracy of features `[n, dim]` (row r belongs to sample
 * `rows[r]`): the probe is fitted on `split.train` and scored on `split.test`.
 * With `dimension`, the features are first projected onto that many principal
 * directions of the training rows (principalProjection), so features of
 * different sizes are probed alike.
 */
export async function identityLeakage(
  features: Float32Array, dim: number, rows: ArrayLike<number>, subjects: readonly string[], split: IdentitySplit,
  opts: ProbeOptions & { dimension?: number } = {},
): Promise<LeakageResult> {
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
  const { dimension, ...probeOpts } = opts;
  const probed = dimension === undefined
    ? { data: features, dim }
    : { data: principalProjection(features, dim, train, dimension), dim: dimension };
  const probe = await linearProbe(probed.data, probed.dim, labels, train, test, probeOpts);
  return {
    accuracy: probe.testAccuracy, chance: 1 / split.subjects.length, subjects: split.subjects.length,
    train: probe.train, test: probe.test, dim: probed.dim,
  };
}
