/**
 * The SPNDL study of notebook 02: its run settings per profile, the run
 * matrix (the Table 4 ablation plus the w/o-neutral variant), and everything
 * the notebook shows computed from the stored runs: per-variant summaries,
 * paired per-fold differences, accuracy per pace (Fig. 5), the paper
 * comparison tables, the claim verdicts, NDF embeddings at an early and a
 * late pace (Fig. 7) and the samples SPL excluded (Fig. 8).
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import { UMAP } from 'umap-js';
import type { Config } from '../config';
import type { FerSet } from '../data/dataset';
import { rng, shuffled } from '../data/random';
import { compareWithPaper, Comparison, paperTable } from '../results/paper-tables';
import { finalAccuracies, frameRows, pooledAccuracy, Row, RUN_FILES, StoredRun } from '../results/store';
import { loadCheckpoint } from '../train/checkpoint';
import { deriveSeed } from '../train/rng';
import { dataInfo, disposeModel } from '../train/trainer';
import { getMethod } from './methods';
import { extractFeatures, planRun, RunResult } from './runner';
import { runStudy, type StudyRun } from './study-runs';
import { parseNumberList } from './settings';
import { formatP, formatPaired, pairedDifference, pairedTest } from '../analysis/paired';
import { meanStd } from '../analysis/stats';

/** The Table 4 ablation plus the w/o-neutral variant: what runs on data with neutral frames. */
export const LAB_VARIANTS = ['baseline', 'baseline-spl', 'ndf', 'spndl', 'spndl-won'] as const;
/** The runs every `npm start` trains (Table 4); the others are shown when `npm run study` has stored them. */
export const MAIN_VARIANTS = ['baseline', 'baseline-spl', 'ndf', 'spndl'];

/**
 * The run behind each of the study's rows: the target-only rows are the shared baseline's (./baseline.ts),
 * the rows with an NDF SPNDL's own, so notebooks 01, 03 and 06 reuse the very same runs.
 */
export function spndlRunOf(name: string): { method: string; variant: string } {
  if (name === 'baseline') return { method: 'baseline', variant: 'plain' };
  if (name === 'baseline-spl') return { method: 'baseline', variant: 'spl' };
  return { method: 'spndl', variant: name };
}
/** Without neutral frames (RAF-DB, SPNDL Sec. 4.1): the baseline and the w/o-neutral model with and without SPL. */
export const WILD_VARIANTS = ['baseline', 'won-nospl', 'spndl-won'] as const;

export const VARIANT_LABELS: Record<string, string> = {
  baseline: 'Baseline (target only)', 'baseline-spl': 'SPL only', ndf: 'NDF only', spndl: 'SPNDL (NDF + SPL)',
  'spndl-won': 'SPNDL w/o neutral image', 'won-nospl': 'w/o neutral, no SPL', 'spndl-separate': 'SPNDL, separate normalisation',
};
const label = (v: string) => VARIANT_LABELS[v] ?? v;

/** Models kept at the end of these paces: the ones SPL ranks with at the start of paces 2 and 5 (Fig. 7, SPNDL Sec. 4.5; which model is our reading). */
export const SNAPSHOT_PACES = [1, 4];

/**
 * The configuration of notebook 02's runs: the spndl* parameters replace the
 * general image size, subject count, folds, pace lengths and backbone width;
 * runs without SPL train as many epochs as the SPL schedule has.
 */
export function spndlConfig(config: Config): Config {
  const paceEpochs = parseNumberList(config.spndlPaceEpochs, 'spndlPaceEpochs');
  if (paceEpochs.length !== parseNumberList(config.splRho, 'splRho').length) {
    throw new Error(`spndlPaceEpochs='${config.spndlPaceEpochs}' must give one epoch count per pace of splRho='${config.splRho}'`);
  }
  const synthetic = config.dataset === 'synfer';
  return Object.freeze({
    ...config,
    imageSize: config.spndlImageSize, folds: config.spndlFolds, backboneWidth: config.spndlBackboneWidth,
    splPaceEpochs: config.spndlPaceEpochs, epochs: paceEpochs.reduce((a, b) => a + b, 0),
    ...(synthetic ? { subjects: config.spndlSubjects, synferLabelNoise: config.spndlNoise, synferCorrupt: config.spndlNoise } : {}),
  });
}

/** The variants the data supports (the paired ones need neutral frames). */
export const spndlVariants = (set: FerSet): string[] => [...(set.neutral ? LAB_VARIANTS : WILD_VARIANTS)];

export const snapshotFile = (runDir: string, fold: number, pace: number) => path.join(runDir, RUN_FILES.work, `fold-${fold}-pace-${pace}.ckpt`);

export interface SpndlStudyOptions { variants?: string[]; resultsDir?: string; snapshotFold?: number; log?: (line: string) => void }

/**
 * The study's runs, one per variant; the ones outside MAIN_VARIANTS train
 * only with config.study and are otherwise shown when stored. For fold
 * `snapshotFold` each run keeps the model at the end of each SNAPSHOT_PACES
 * pace for the NDF embedding.
 */
export function planSpndlStudy(config: Config, set: FerSet, opts: SpndlStudyOptions = {}): StudyRun[] {
  const snapshotFold = opts.snapshotFold ?? 0;
  return (opts.variants ?? spndlVariants(set)).map((variant) => {
    const run = { config, ...spndlRunOf(variant), set, resultsDir: opts.resultsDir };
    const plan = planRun(run);
    const paceEnds = plan.config.paceEpochs.map((_, i) => plan.config.paceEpochs.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const snapshots = (fold: number) => (fold === snapshotFold
      ? Object.fromEntries(SNAPSHOT_PACES.map((pace) => [paceEnds[pace - 1], snapshotFile(plan.dir, fold, pace)])) : {});
    return { name: variant, run: { ...run, snapshots }, train: config.study || MAIN_VARIANTS.includes(variant) };
  });
}

/** Runs (or reuses) the study's runs (planSpndlStudy), all at once: their folds share the fold pool. */
export async function runSpndlStudy(config: Config, set: FerSet, opts: SpndlStudyOptions = {}): Promise<Record<string, RunResult>> {
  const planned = planSpndlStudy(config, set, opts);
  const results = await runStudy(planned, { log: opts.log });
  return Object.fromEntries(planned.flatMap((p, i) => (results[i] ? [[p.name, results[i]!] as const] : [])));
}

/** One row per variant: accuracy after the last epoch, mean ± std over folds and pooled over all test samples (the paper's metric: its CK+ values are all k/981, SPNDL Tables 1 and 4). */
export function variantSummary(runs: Record<string, StoredRun>): Row[] {
  return Object.entries(runs).map(([variant, run]) => {
    const accs = finalAccuracies(run).map((a) => a.test_acc);
    const { mean, std } = meanStd(accs);
    const p = pooledAccuracy(run);
    return {
      variant: label(variant), folds: accs.length, 'acc mean %': 100 * mean, 'acc std %': 100 * std,
      'pooled %': 100 * p.acc, correct: p.correct, 'test samples': p.total, 'per fold %': accs.map((a) => (100 * a).toFixed(1)).join(' '),
    };
  });
}

/** Test accuracy at the end of every pace, per variant and fold (Fig. 5); runs without SPL are read at the same epochs. */
export function paceAccuracyRows(runs: Record<string, StoredRun>): Row[] {
  return Object.entries(runs).flatMap(([variant, run]) => {
    const rows = frameRows(run.results);
    const last = new Map<string, Row>();
    for (const r of rows) {
      const key = `${r.fold}:${r.pace}`;
      if (!last.has(key) || (r.epoch as number) > (last.get(key)!.epoch as number)) last.set(key, r);
    }
    return [...last.values()].map((r) => ({ variant: label(variant), spl: run.config.spl ? 'with SPL' : 'without SPL', fold: r.fold, pace: r.pace, epoch: r.epoch, test_acc: 100 * (r.test_acc as number) }));
  });
}

/** Training loss per epoch and variant, mean over folds (Fig. 6). */
export function trainLossRows(runs: Record<string, StoredRun>): Row[] {
  return Object.entries(runs).flatMap(([variant, run]) => {
    const byEpoch = new Map<number, number[]>();
    for (const r of frameRows(run.results)) byEpoch.set(r.epoch as number, [...(byEpoch.get(r.epoch as number) ?? []), r.train_loss as number]);
    return [...byEpoch.entries()].map(([epoch, ls]) => ({ variant: label(variant), spl: run.config.spl ? 'with SPL' : 'without SPL', epoch, train_loss: meanStd(ls).mean }));
  });
}

/**
 * Our runs beside one of the paper's tables: pooled accuracy (%) as the
 * value, the std over folds as the spread. Synthetic runs are compared with
 * every column; real ones with their own dataset's.
 */
export function paperComparison(tableId: string, runs: Record<string, StoredRun>, config: Config): Comparison[] {
  const linked = new Set(paperTable(tableId).ours.map((l) => `${l.ours.method}/${l.ours.variant}`));
  const ours = Object.values(runs).filter((run) => linked.has(`${run.config.method}/${run.config.variant}`)).map((run) => ({
    method: run.config.method, variant: run.config.variant, mean: 100 * pooledAccuracy(run).acc,
    std: 100 * meanStd(finalAccuracies(run).map((a) => a.test_acc)).std, dataset: config.dataset, profile: config.profile,
  }));
  return ours.length ? compareWithPaper(tableId, ours) : [];
}


/** The paper's value of a variant on CK+ or Oulu-CASIA (Table 4; the w/o-neutral rows from Tables 1–2). */
function paperValue(variant: string, col: 'ckplus' | 'oulu'): number {
  const [id, row] = variant === 'spndl-won'
    ? [col === 'ckplus' ? 'spndl.table1' : 'spndl.table2', 'SPNDL (w/o neutral image)']
    : ['spndl.table4', paperTable('spndl.table4').ours.find((l) => l.ours.method === spndlRunOf(variant).method && l.ours.variant === spndlRunOf(variant).variant)!.paperRow];
  return paperTable(id).rows.find((r) => r.label === row)!.values[col]!;
}
const signed = (x: number, digits = 2) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
const paperDifference = (a: string, b: string) =>
  `CK+ ${signed(paperValue(a, 'ckplus') - paperValue(b, 'ckplus'))}, Oulu ${signed(paperValue(a, 'oulu') - paperValue(b, 'oulu'))} pp`;

/**
 * The paper's claims, each with its evidence in the paper and our numbers;
 * every verdict is computed here from the stored runs. Comparisons of two
 * runs are paired over folds and judged by the shared rule (pairedTest), with
 * the t-test's p beside the verdict; the curve-shape claims of Figs. 5 (all
 * four curves), 6 and 8 are descriptive and have no p.
 */
export function claimVerdicts(runs: Record<string, StoredRun>, set?: FerSet): Row[] {
  const out: Row[] = [];
  const descriptive = (claim: string, paper: string, ours: string, holds: string) =>
    out.push({ claim, paper, ours, p: '–', holds });
  const compare = (a: string, b: string, claim: string) => {
    if (!runs[a] || !runs[b]) return;
    const d = pairedDifference(runs[a], runs[b]);
    out.push({ claim, paper: paperDifference(a, b), ours: formatPaired(d), p: formatP(d.p), holds: d.verdict });
  };
  compare('ndf', 'baseline', 'NDF beats the target-only baseline');
  compare('baseline-spl', 'baseline', 'SPL alone beats the baseline');
  compare('spndl', 'ndf', 'SPL on top of NDF helps (SPNDL > NDF)');
  compare('spndl', 'baseline-spl', 'NDF on top of SPL helps (SPNDL > SPL only)');
  compare('spndl', 'baseline', 'SPNDL beats the baseline');
  compare('spndl-won', 'baseline', 'w/o neutral image beats the baseline');
  compare('spndl', 'spndl-won', 'a real neutral frame beats a learned one (SPNDL > w/o neutral)');

  const pace = paceAccuracyRows(runs);
  const accAt = (v: string, p: number) =>
    new Map(pace.filter((r) => r.variant === label(v) && r.pace === p).map((r) => [r.fold as number, r.test_acc as number]));
  const at = (v: string, p: number) => {
    const xs = [...accAt(v, p).values()];
    return xs.length ? meanStd(xs).mean : NaN;
  };
  const paces = [...new Set(pace.map((r) => r.pace as number))].sort((a, b) => a - b);
  if (['baseline', 'baseline-spl', 'ndf', 'spndl'].every((v) => runs[v])) {
    const above = paces.filter((p) => Math.min(at('ndf', p), at('spndl', p)) > Math.max(at('baseline', p), at('baseline-spl', p)));
    descriptive('Fig. 5: both NDF curves lie above both target-only curves at every pace', 'Oulu-CASIA, one fold',
      `${above.length}/${paces.length} paces (mean over folds)`,
      above.length === paces.length ? 'yes' : above.length <= paces.length / 2 ? 'no' : 'unclear');
    // no SPL − SPL per fold, at paces 1 and 2, for both partners (target only, NDF): one paired test over all of them
    const trail = (withSpl: string, without: string) => [1, 2].flatMap((p) => {
      const a = accAt(without, p), b = accAt(withSpl, p);
      return [...a].filter(([fold]) => b.has(fold)).map(([fold, acc]) => acc - b.get(fold)!);
    });
    const d = pairedTest([...trail('baseline-spl', 'baseline'), ...trail('spndl', 'ndf')]);
    out.push({
      claim: 'Fig. 5: SPL runs trail their no-SPL partners at paces 1–2 (fewer samples)', paper: 'Oulu-CASIA, one fold',
      ours: `no SPL − SPL: ${formatPaired(d, { pairs: 'pairs' })} over folds × paces 1–2 × both partners`,
      p: formatP(d.p), holds: d.verdict,
    });
  }
  const splRun = runs.spndl ?? runs['spndl-won'];
  if (splRun) {
    const loss = trainLossRows({ x: splRun });
    const ends = splRun.config.paceEpochs.map((_, i) => splRun.config.paceEpochs.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const lossAt = (e: number) => loss.find((r) => r.epoch === e)?.train_loss as number;
    const jumps = ends.slice(0, -1).filter((e) => lossAt(e + 1) > lossAt(e));
    const boundaries = ends.length - 1;
    descriptive('Fig. 6: with SPL the training loss jumps when a new pace admits harder samples',
      'RAF-DB (w/o neutral), every pace boundary',
      `${jumps.length}/${boundaries} boundaries (${label(splRun.config.variant)})`,
      jumps.length >= boundaries * 0.8 ? 'yes' : jumps.length <= boundaries / 2 ? 'no' : 'unclear');
  }
  if (set && splRun) {
    const ex = exclusionRows(splRun, set).filter((r) => r.pace === 2);
    const noisy = ex.reduce((a, r) => a + (r['noisy in training'] as number), 0);
    if (noisy > 0) {
      const ratio = ex.reduce((a, r) => a + (r['noisy excluded'] as number), 0) / ex.reduce((a, r) => a + (r.excluded as number), 0)
        / (noisy / ex.reduce((a, r) => a + (r['training samples'] as number), 0));
      descriptive('Fig. 8: SPL leaves out low-quality or mislabelled samples', 'RAF-DB, examples only (no rate given)',
        `noisy share among the excluded at pace 2 = ${ratio.toFixed(2)} × their share in training (all folds)`,
        ratio > 1.5 ? 'yes' : ratio < 1.1 ? 'no' : 'unclear');
    }
  }
  return out;
}

/** Injected noise of a SynFER row: 'label flipped', 'corrupt: <kind>', or 'clean' (real datasets: always 'clean'). */
export function noiseKind(row: Record<string, unknown>): string {
  if (Number(row.label_flipped) === 1) return 'label flipped';
  const c = row.corruption;
  return c && c !== 'none' ? `corrupt: ${c}` : 'clean';
}

/** Per fold and pace: how many training samples SPL left out, and how many of them carry injected noise. */
export function exclusionRows(run: StoredRun, set: FerSet): Row[] {
  if (!run.spl) throw new Error(`run ${run.runId} did not use self-paced learning`);
  const groups = new Map<string, Row[]>();
  for (const r of frameRows(run.spl)) groups.set(`${r.fold}:${r.pace}`, [...(groups.get(`${r.fold}:${r.pace}`) ?? []), r]);
  return [...groups.values()].map((rs) => {
    const noisy = (r: Row) => noiseKind(set.rows[r.sample as number]) !== 'clean';
    const excluded = rs.filter((r) => r.selected === 0);
    return {
      fold: rs[0].fold, pace: rs[0].pace, rho: rs[0].rho, 'training samples': rs.length, excluded: excluded.length,
      'noisy in training': rs.filter(noisy).length, 'noisy excluded': excluded.filter(noisy).length,
    };
  });
}

/** A seeded draw of samples SPL excluded at some pace from 2 to 5 (Fig. 8), with their loss at each pace. */
export function excludedSamples(run: StoredRun, set: FerSet, fold: number, count: number, seed: number): Row[] {
  if (!run.spl) throw new Error(`run ${run.runId} did not use self-paced learning`);
  const rows = frameRows(run.spl).filter((r) => r.fold === fold);
  const lastPace = Math.max(...rows.map((r) => r.pace as number));
  const ever = [...new Set(rows.filter((r) => r.selected === 0 && (r.pace as number) >= 2 && (r.pace as number) < lastPace).map((r) => r.sample as number))].sort((a, b) => a - b);
  return shuffled(rng(seed, 'spndl-excluded'), ever).slice(0, count).map((sample) => {
    const mine = rows.filter((r) => r.sample === sample).sort((a, b) => (a.pace as number) - (b.pace as number));
    return {
      sample, class: set.classes[set.labels[sample]], noise: noiseKind(set.rows[sample]), 'true label': String(set.rows[sample].true_label ?? set.classes[set.labels[sample]]),
      'excluded at paces': mine.filter((r) => r.selected === 0).map((r) => r.pace).join(' '),
      'loss per pace': mine.map((r) => (r.loss as number).toFixed(2)).join(' '),
    };
  });
}

/**
 * NDFs of one fold's training samples from the models kept at the end of
 * SNAPSHOT_PACES, embedded in 2-D with a seeded UMAP (Fig. 7), with the
 * selection SPL made with each model, and the within-class spread in the
 * feature space (mean distance to the class centroid over mean distance
 * between centroids; the paper says it shrinks from pace 2 to pace 5).
 */
export async function ndfEmbedding(run: StoredRun, set: FerSet, fold: number, seed: number): Promise<{ points: Row[]; spread: Row[] }> {
  if (!run.spl) throw new Error(`run ${run.runId} did not use self-paced learning; Fig. 7 needs the selection flags`);
  const method = getMethod(run.config.method);
  const points: Row[] = [], spread: Row[] = [];
  const splRows = frameRows(run.spl).filter((r) => r.fold === fold);
  for (const endOf of SNAPSHOT_PACES) {
    const file = snapshotFile(run.dir, fold, endOf);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: the run was made without pace snapshots; rerun notebook 02 with FER_FORCE=1`);
    const pace = endOf + 1; // the selection this model made
    const sel = splRows.filter((r) => r.pace === pace).sort((a, b) => (a.sample as number) - (b.sample as number));
    const samples = Int32Array.from(sel.map((r) => r.sample as number));
    const model = await method.build({ config: run.config, options: run.config.options, data: dataInfo(set), fold, seed: deriveSeed(run.config.seed, 'init', fold), prepared: undefined });
    let feats;
    try {
      await loadCheckpoint(file, model.parts, model.optimizers);
      feats = extractFeatures(model, set, samples, method.inputs(run.config.options).train === 'pair');
    } finally {
      disposeModel(model);
    }
    const f = feats.ndf ?? feats.target;
    const vectors = Array.from(samples, (_, i) => Array.from(f.data.subarray(i * f.dim, (i + 1) * f.dim)));
    const xy = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, samples.length - 1), minDist: 0.1, random: rng(seed, 'umap', pace) }).fit(vectors);
    sel.forEach((r, i) => points.push({
      pace: `start of pace ${pace}`, x: xy[i][0], y: xy[i][1], class: set.classes[r.label as number],
      status: r.selected ? 'selected' : 'excluded', noise: noiseKind(set.rows[r.sample as number]), sample: r.sample,
    }));
    spread.push({ pace, selected: sel.filter((r) => r.selected).length, excluded: sel.filter((r) => !r.selected).length, 'within / between class spread': spreadRatio(vectors, sel.map((r) => r.label as number)) });
  }
  return { points, spread };
}

/** Mean distance to the own class centroid over mean distance between class centroids (scale-free). */
export function spreadRatio(vectors: number[][], labels: number[]): number {
  const classes = [...new Set(labels)];
  const centroid = (k: number) => {
    const members = vectors.filter((_, i) => labels[i] === k);
    return members[0].map((_, d) => members.reduce((a, v) => a + v[d], 0) / members.length);
  };
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, x, d) => s + (x - b[d]) ** 2, 0));
  const cs = new Map(classes.map((k) => [k, centroid(k)]));
  const within = vectors.reduce((a, v, i) => a + dist(v, cs.get(labels[i])!), 0) / vectors.length;
  let between = 0, pairs = 0;
  for (let i = 0; i < classes.length; i++) for (let j = i + 1; j < classes.length; j++) { between += dist(cs.get(classes[i])!, cs.get(classes[j])!); pairs++; }
  return pairs ? within / (between / pairs) : NaN;
}

/**
 * One of the paper's tables as printed, with our result beside each row that
 * one of our variants stands for (pooled accuracy ± std over folds) and the
 * difference to the paper per dataset column. Competitor rows are kept.
 */
export function comparisonTable(tableId: string, runs: Record<string, StoredRun>, config: Config): Row[] {
  const table = paperTable(tableId);
  const cmp = paperComparison(tableId, runs, config);
  const oursName = `ours (${config.dataset}, ${config.profile})`;
  return table.rows.map((row) => {
    const mine = cmp.filter((c) => c.paperRow === row.label);
    const out: Row = { method: row.label, role: row.role };
    for (const col of table.columns) out[`paper ${col.label}`] = row.values[col.key] ?? null;
    // the study's name of the run (its row label), not the variant of the method that trained it
    const name = mine.length ? Object.keys(runs).find((k) => runs[k].config.method === mine[0].method && runs[k].config.variant === mine[0].variant) : undefined;
    out[oursName] = mine.length ? `${mine[0].ours} (${label(name ?? mine[0].variant)})` : '';
    for (const col of table.columns) {
      const c = mine.find((m) => m.paperDataset === col.label);
      if (table.columns.length > 1 || c) out[`ours − paper ${col.label}`] = c?.difference ?? null;
    }
    return out;
  });
}
