/**
 * What notebook 05 shows from stored DDL runs: accuracy per variant (final
 * and best epoch, over seeds and folds), attention maps of S_e over sample
 * faces (heat map blended over the crop), a linear-probe leakage table
 * (disturbance labels predicted from f^e, on every fold) and the paper's
 * claims checked against our numbers with the shared paired test. It reads
 * stored runs through the runner, so it sits with the experiments.
 * @see notebooks/05-ddl.ipynb
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { FerSet } from '../data/dataset';
import { imageGrid, type Pixels } from '../data/grid';
import { cropBatch, type DdlModel } from './ddl';
import { extractFeatures, foldSplits, loadFoldModel } from './runner';
import { FACTOR_COLUMNS, factorLabels, FACTOR_NAMES, type Factor } from '../models/ddl/dfem';
import { frameRows, readCsvRows, RUN_FILES, type StoredRun } from '../results/store';
import { gatherImages } from '../train/batches';
import { disposeModel } from '../train/trainer';
import { linearProbe } from '../analysis/linear-probe';
import { formatP, formatPaired, pairedDifference, pairedTest, type PairedTest } from '../analysis/paired';
import { mean, sampleStd as std } from '../analysis/stats';


/** Per (variant, seed, fold): final-epoch and best-epoch test accuracy (%). */
export function runAccuracies(runs: StoredRun[]) {
  return runs.flatMap((run) => {
    const rows = frameRows(run.results);
    const folds = [...new Set(rows.map((r) => Number(r.fold)))];
    return folds.map((fold) => {
      const f = rows.filter((r) => Number(r.fold) === fold);
      const acc = f.map((r) => 100 * Number(r.test_acc));
      return { variant: run.config.variant, seed: run.config.seed, fold, final: acc[acc.length - 1], best: Math.max(...acc) };
    });
  });
}

/** Mean ± std over seeds and folds, per variant, in the given order. */
export function summarizeAccuracies(runs: StoredRun[], order: string[]) {
  const all = runAccuracies(runs);
  return order.filter((v) => all.some((a) => a.variant === v)).map((variant) => {
    const a = all.filter((x) => x.variant === variant);
    return { variant, runs: a.length, final: mean(a.map((x) => x.final)), finalStd: std(a.map((x) => x.final)), best: mean(a.map((x) => x.best)), bestStd: std(a.map((x) => x.best)) };
  });
}

/** Paired difference (final %, per seed and fold) of variant a minus b, with the shared paired test. */
const variantDifference = (runs: StoredRun[], a: string, b: string) =>
  pairedDifference(runs.filter((r) => r.config.variant === a), runs.filter((r) => r.config.variant === b));

/** One row of a claims table (a type, not an interface, so that showTable takes it as a table row). */
export type DdlClaim = { claim: string; paper: string; ours: string; p: string; holds: string };

const claimRow = (claim: string, paper: string, d: PairedTest, pairs = 'seed × fold pairs'): DdlClaim =>
  ({ claim, paper, ours: formatPaired(d, { pairs }), p: formatP(d.p), holds: d.verdict });

/** The paper's claims (Tables 2–4) with verdicts from the shared paired rule over our runs' seeds and folds. */
export function ddlClaims(runs: StoredRun[], ddlVariants: string[]): DdlClaim[] {
  const out: DdlClaim[] = [];
  const all = ddlVariants.filter((v) => v.startsWith('ddl-'));
  const best = all[all.length - 1];
  const vsMat = (v: string) => variantDifference(runs, v, 'baseline-mat');
  if (best) out.push(claimRow(`${best} beats Baseline_mat (must hold)`, '+0.81 to +4.58 pts (Table 2)', vsMat(best)));
  for (const v of all.slice(0, -1)) out.push(claimRow(`${v} beats Baseline_mat`, 'every DDL variant > Baseline_mat', vsMat(v)));
  out.push(claimRow('Baseline_mat beats Baseline', '+1.01 to +3.13 pts', variantDifference(runs, 'baseline-mat', 'baseline')));
  const at = variantDifference(runs, 'baseline-at', 'baseline');
  if (at.n) out.push(claimRow('Baseline_at beats Baseline', '+0.46 to +2.78 pts', at));
  return out;
}

/** Sample indices of fold 0's test split with one correctly or not classified face per class (first found). */
export function testSamplesPerClass(run: StoredRun, set: FerSet): number[] {
  const preds = frameRows(run.predictions).filter((r) => Number(r.fold) === 0);
  return set.classes.flatMap((_, k) => {
    const right = preds.find((r) => Number(r.label) === k && Number(r.prediction) === k) ?? preds.find((r) => Number(r.label) === k);
    return right ? [Number(right.sample)] : [];
  });
}

/** Channel sum of a map [h, w, c] -> min-max normalised heat, resized (nearest) to `side`. */
function heat(map: Float32Array, h: number, w: number, c: number, side: number): Float32Array {
  const s = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) s[i] += Math.abs(map[i * c + k]);
  const lo = Math.min(...s), hi = Math.max(...s);
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) out[y * side + x] = (s[Math.floor((y * h) / side) * w + Math.floor((x * w) / side)] - lo) / (hi - lo || 1);
  return out;
}

/** Jet-like colour of t in [0, 1]. */
const jet = (t: number) => [1.5 - Math.abs(4 * t - 3), 1.5 - Math.abs(4 * t - 2), 1.5 - Math.abs(4 * t - 1)].map((v) => Math.max(0, Math.min(1, v)));

function overlay(face: Float32Array, channels: number, h: Float32Array, side: number): Pixels {
  const px = new Float32Array(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    const g = channels === 1 ? face[i] : (face[i * 3] + face[i * 3 + 1] + face[i * 3 + 2]) / 3;
    jet(h[i]).forEach((v, k) => { px[i * 3 + k] = 0.5 * g + 0.5 * v; });
  }
  return { pixels: px, size: side, channels: 3 };
}

export interface AttentionResult {
  /** PNG: one row per face: the crop, then a_1^e..a_5^e (Fig. 4) and a_out (Fig. 5) blended over it */
  png: Buffer;
  /** ROI ratio per face: share of the a_out (or last map) heat inside the eye/mouth boxes over the boxes' share of the area (> 1: attends to the ROI) */
  roiRatio: number[];
}

/** Attention maps of a stored run's fold-0 model over some samples (DDL Figs. 4-5, Sec. 4.3; the ROI ratio is our diagnostic). */
export async function attentionFigure(run: StoredRun, set: FerSet, samples: number[], resultsDir?: string): Promise<AttentionResult> {
  const { roiMask } = await import('../data/dataset');
  const model = await loadFoldModel(run, 0, set, resultsDir) as DdlModel;
  try {
    const crop = model.crop, off = Math.floor((set.size - crop) / 2);
    const x = gatherImages(set.images, set.size, set.channels, samples);
    const xc = cropBatch(x, crop, null, false);
    const maps = model.ddm.maps.apply(xc, { training: false }) as tf.Tensor4D[];
    const faces = xc.dataSync() as Float32Array;
    const arrays = maps.map((m) => ({ data: m.dataSync() as Float32Array, shape: m.shape }));
    tf.dispose([x, xc, ...maps]);
    const rows: (Pixels | null)[][] = [];
    const roiRatio: number[] = [];
    samples.forEach((s, i) => {
      const per = crop * crop * set.channels;
      const face = faces.subarray(i * per, (i + 1) * per);
      const heats = arrays.map(({ data, shape: [, h, w, c] }) => heat(data.subarray(i * h * w * c, (i + 1) * h * w * c), h, w, c, crop));
      rows.push([{ pixels: Float32Array.from(face), size: crop, channels: set.channels }, ...heats.map((hm) => overlay(face, set.channels, hm, crop))]);
      try {
        const full = roiMask(set.rows[s], set.size);
        const last = heats[heats.length - 1];
        let inside = 0, total = 0, area = 0;
        for (let y = 0; y < crop; y++) for (let xx = 0; xx < crop; xx++) {
          const m = full[(y + off) * set.size + xx + off];
          inside += m * last[y * crop + xx]; total += last[y * crop + xx]; area += m;
        }
        roiRatio.push(total > 0 && area > 0 ? (inside / total) / (area / (crop * crop)) : NaN);
      } catch {
        roiRatio.push(NaN); // real data: no ROI boxes
      }
    });
    const labels = arrays.length === 6 ? ['a1', 'a2', 'a3', 'a4', 'a5', 'a_out'] : arrays.map((_, j) => `u${j + 1}`);
    const png = await imageGrid(rows, { cell: 72, colLabels: ['face', ...labels], rowLabels: samples.map((s) => set.classes[set.labels[s]]) });
    return { png, roiRatio };
  } finally {
    disposeModel(model);
  }
}

/** One linear-probe result: how well a disturbance factor is read from one feature of one fold's model. */
export type ProbeRow = {
  variant: string;
  seed: number;
  fold: number;
  feature: string;
  factor: string;
  classes: number;
  /** test accuracy of the probe and the majority-class share it must beat, in % */
  probeAcc: number;
  chance: number;
};

/**
 * Leakage: a linear probe per disturbance factor on the frozen features of
 * every fold's model (trained on the fold's training samples, scored on its
 * test samples), so that two variants can be compared fold by fold.
 * Identity is left out: test subjects are unseen, so it cannot be probed here.
 */
/** The factors among `factors` that vary in the set (a frontal set has one pose: nothing to probe there). */
export function variedFactors(set: FerSet, factors: Factor[]): Factor[] {
  return factors.filter((f) => {
    const column = FACTOR_COLUMNS[f].find((c) => set.rows.some((r) => r[c] !== undefined && String(r[c]) !== ''));
    return column !== undefined && new Set(set.rows.map((r) => String(r[column] ?? '')).filter((v) => v !== '')).size >= 2;
  });
}

export async function leakageProbe(run: StoredRun, set: FerSet, factors: Factor[], resultsDir?: string): Promise<ProbeRow[]> {
  const rows: ProbeRow[] = [];
  if (!factors.length) return rows;
  const foldOf = readCsvRows(path.join(run.dir, RUN_FILES.folds))
    .sort((a, b) => Number(a.sample) - Number(b.sample)).map((r) => Number(r.fold));
  const all = Int32Array.from(set.labels.keys());
  for (const { fold, train, test } of foldSplits(foldOf)) {
    const model = await loadFoldModel(run, fold, set, resultsDir);
    try {
      const feats = extractFeatures(model, set, all, false);
      for (const [feature, f] of Object.entries(feats)) for (const factor of factors) {
        const r = await linearProbe(f.data, f.dim, factorLabels(set.rows, factor).labels, train, test);
        rows.push({
          variant: run.config.variant, seed: run.config.seed, fold, feature, factor: FACTOR_NAMES[factor], classes: r.classes,
          probeAcc: 100 * r.testAccuracy, chance: 100 * r.chance,
        });
      }
    } finally {
      disposeModel(model);
    }
  }
  return rows;
}

/**
 * Is `variant`'s expression feature f^e less leaky than `reference`'s? Pairs their probe rows per (seed, fold,
 * factor) and tests (reference − variant) of probe accuracy above chance, in points, with the shared rule:
 * 'yes' when the variant's f^e is read significantly worse. The factors of one fold share a model, so their
 * pairs are not independent: the p-value is optimistic by as much as the factors agree.
 */
export function leakageClaim(rows: ProbeRow[], reference: string, variant: string): DdlClaim {
  const leak = (v: string) => new Map(rows.filter((r) => r.variant === v && r.feature === 'fe')
    .map((r) => [`${r.seed}:${r.fold}:${r.factor}`, r.probeAcc - r.chance]));
  const ref = leak(reference), mine = leak(variant);
  const d = pairedTest([...ref].filter(([k]) => mine.has(k)).map(([k, x]) => x - mine.get(k)!));
  const mean = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / m.size;
  const claim = claimRow(`${variant}'s f^e carries less disturbance than ${reference}'s (linear probe)`,
    'S_d takes the disturbance out of the expression features (§3.1, §3.4; not measured)', d, 'seed × fold × factor pairs');
  if (!d.n) return claim;
  return { ...claim, ours: `${claim.ours}; probe − chance: ${reference} ${mean(ref).toFixed(1)}, ${variant} ${mean(mine).toFixed(1)} pts` };
}

/**
 * Does each variant fit its own training set? Last-epoch training accuracy
 * (training mode: random crop, flip, dropout) and expression cross-entropy
 * beside the test accuracy, chance (1/K) and ln K, the cross-entropy of a
 * model that has learnt only the class prior. A training CE near ln K means
 * the network has learnt nothing yet, whatever the test numbers say.
 */
export function fitSummary(runs: StoredRun[], order: string[]) {
  return order.flatMap((variant) => {
    const mine = runs.filter((r) => r.config.variant === variant);
    if (!mine.length) return [];
    const last = mine.flatMap((r) => {
      const rows = frameRows(r.results);
      const end = Math.max(...rows.map((x) => Number(x.epoch)));
      return rows.filter((x) => Number(x.epoch) === end);
    });
    const k = mine[0].config.data?.classes.length ?? NaN;
    const ce = (x: Record<string, unknown>) => Number(x.loss_ce ?? x.train_loss);
    return [{ variant, epochs: Math.max(...last.map((x) => Number(x.epoch))), trainAcc: 100 * mean(last.map((x) => Number(x.train_acc))),
      testAcc: 100 * mean(last.map((x) => Number(x.test_acc))), chance: 100 / k, trainCE: mean(last.map(ce)), lnK: Math.log(k) }];
  });
}
