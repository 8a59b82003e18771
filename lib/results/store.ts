/**
 * The results store: one folder per run under data/results/<method>/<run id>/
 *   config.json      the fully resolved run configuration (its hash is in the run id)
 *   results.csv      one row per (fold, epoch): losses, accuracies, pace, images/s
 *   predictions.csv  test predictions of every fold after its last epoch
 *   spl.csv          self-paced selection per (fold, pace, sample), SPL runs only
 *   folds.csv        which fold tests each sample
 *   run.json         backend, dataset, timings; written last with results.csv
 *   work/            per-fold checkpoints and finished-fold results (resume)
 * Every file is written atomically; a run is complete when results.csv exists.
 * Loading never trains: notebooks and figures read runs from here.
 * @see notebooks/07-figures.ipynb
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import Papa from 'papaparse';
import * as dfd from 'danfojs-node';
import { writeFileAtomic } from '../core/atomic-write';
import { PROJECT_ROOT } from '../paths';
import type { RunConfig } from '../train/run-types';
import { meanStd } from '../analysis/stats';

/**
 * Where runs are stored: data/results, or FER_RESULTS_DIR. A stored run is
 * reused whatever the backend, so CI gives its webgpu smoke run a folder of
 * its own, which makes that run train instead of reading the wasm runs.
 */
export const RESULTS_DIR = process.env.FER_RESULTS_DIR?.trim()
  ? path.resolve(process.env.FER_RESULTS_DIR.trim()) : path.join(PROJECT_ROOT, 'data', 'results');

type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** JSON with object keys sorted, so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v));
}

/** Readable name + 8 hex digits of the config hash, e.g. baseline-spl-synfer-lite-s1-k5-3f2a9c1d. */
export function runIdFor(config: RunConfig): string {
  const hash = crypto.createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 8);
  const name = [config.method, config.variant, config.dataset, config.profile, `s${config.seed}`, `k${config.folds}`].join('-');
  return `${name.replace(/[^\w.-]+/g, '_')}-${hash}`;
}

export const runDirFor = (config: RunConfig, root = RESULTS_DIR) => path.join(root, config.method, runIdFor(config));

export const RUN_FILES = {
  config: 'config.json', results: 'results.csv', predictions: 'predictions.csv', spl: 'spl.csv', folds: 'folds.csv', meta: 'run.json', work: 'work',
} as const;

export const isComplete = (dir: string) => fs.existsSync(path.join(dir, RUN_FILES.results));

/** Writes rows as CSV atomically (through a danfojs DataFrame, so columns are uniform). */
export function writeCsv(file: string, rows: Row[]): void {
  if (!rows.length) {
    writeFileAtomic(file, '');
    return;
  }
  writeFileAtomic(file, dfd.toCSV(new dfd.DataFrame(rows)) as string);
}

/** Reads a CSV into rows, numbers typed ('NaN' included). */
export function readCsvRows(file: string): Row[] {
  if (!fs.existsSync(file)) throw new Error(`results file not found: ${file}`);
  const text = fs.readFileSync(file, 'utf8');
  if (!text.trim()) return [];
  const parsed = Papa.parse<Row>(text, { header: true, skipEmptyLines: true, dynamicTyping: true });
  if (parsed.errors.length) throw new Error(`${file}: row ${(parsed.errors[0].row ?? 0) + 2}: ${parsed.errors[0].message}`);
  return parsed.data.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === 'NaN' ? NaN : v])));
}

/** A CSV as a danfojs DataFrame. */
export const readCsvFrame = (file: string): dfd.DataFrame => new dfd.DataFrame(readCsvRows(file));

export interface RunInfo {
  runId: string;
  method: string;
  variant: string;
  dataset: string;
  profile: string;
  seed: number;
  folds: number;
  complete: boolean;
  dir: string;
}

/** Every stored run (complete or not), optionally of one method. */
export function listRuns(opts: { root?: string; method?: string } = {}): RunInfo[] {
  const root = opts.root ?? RESULTS_DIR;
  if (!fs.existsSync(root)) return [];
  const methods = opts.method ? [opts.method] : fs.readdirSync(root).filter((m) => fs.statSync(path.join(root, m)).isDirectory());
  return methods.flatMap((m) => {
    const mdir = path.join(root, m);
    if (!fs.existsSync(mdir)) return [];
    return fs.readdirSync(mdir).sort().flatMap((runId) => {
      const dir = path.join(mdir, runId);
      const cfgFile = path.join(dir, RUN_FILES.config);
      if (!fs.existsSync(cfgFile)) return [];
      const c = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as RunConfig;
      return [{ runId, method: c.method, variant: c.variant, dataset: c.dataset, profile: c.profile, seed: c.seed, folds: c.folds, complete: isComplete(dir), dir }];
    });
  });
}

export interface StoredRun {
  runId: string;
  dir: string;
  config: RunConfig;
  meta: Record<string, unknown>;
  /** one row per (fold, epoch) */
  results: dfd.DataFrame;
  /** final test predictions, one row per (fold, sample) */
  predictions: dfd.DataFrame;
  /** SPL selection history, null when the run has none */
  spl: dfd.DataFrame | null;
}

/** Resolves a run id (searched under every method) or a run folder. */
export function findRunDir(runIdOrDir: string, root = RESULTS_DIR): string {
  if (fs.existsSync(path.join(runIdOrDir, RUN_FILES.config))) return runIdOrDir;
  const hit = listRuns({ root }).find((r) => r.runId === runIdOrDir);
  if (!hit) throw new Error(`no stored run '${runIdOrDir}' under ${root}`);
  return hit.dir;
}

/** Loads a complete run's tables and config. */
export function loadRun(runIdOrDir: string, root = RESULTS_DIR): StoredRun {
  const dir = findRunDir(runIdOrDir, root);
  if (!isComplete(dir)) throw new Error(`run ${dir} is not complete (no ${RUN_FILES.results}); run it again to resume`);
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const splFile = path.join(dir, RUN_FILES.spl);
  return {
    runId: path.basename(dir), dir, config: read(RUN_FILES.config) as RunConfig,
    meta: fs.existsSync(path.join(dir, RUN_FILES.meta)) ? read(RUN_FILES.meta) : {},
    results: readCsvFrame(path.join(dir, RUN_FILES.results)),
    predictions: readCsvFrame(path.join(dir, RUN_FILES.predictions)),
    spl: fs.existsSync(splFile) ? readCsvFrame(splFile) : null,
  };
}

/** Rows of a DataFrame as records. */
export function frameRows(df: dfd.DataFrame): Row[] {
  const cols = df.columns;
  return (df.values as Cell[][]).map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
}

/** Test accuracy after the last epoch of each fold of a run. */
export function finalAccuracies(run: StoredRun): { fold: number; test_acc: number }[] {
  const last = new Map<number, Row>();
  for (const r of frameRows(run.results)) {
    const f = r.fold as number;
    if (!last.has(f) || (r.epoch as number) > (last.get(f)!.epoch as number)) last.set(f, r);
  }
  return [...last.entries()].sort((a, b) => a[0] - b[0]).map(([fold, r]) => ({ fold, test_acc: r.test_acc as number }));
}

/**
 * One row per (method, variant, dataset): test accuracy after the last epoch,
 * mean and std over every fold of every run (seeds), and pooled over every
 * test prediction (pooled counts are what SPNDL reports: every CK+ value in
 * its Tables 1 and 4 is k/981).
 */
/** Right and total final test predictions over every fold of the runs; acc is the papers' pooled accuracy (NaN without predictions). */
export function pooledAccuracy(runs: StoredRun | StoredRun[]): { correct: number; total: number; acc: number } {
  const preds = [runs].flat().flatMap((run) => frameRows(run.predictions));
  const correct = preds.filter((p) => p.label === p.prediction).length;
  return { correct, total: preds.length, acc: preds.length ? correct / preds.length : NaN };
}

export function summarizeRuns(runs: StoredRun[]): dfd.DataFrame {
  const groups = new Map<string, StoredRun[]>();
  for (const run of runs) {
    const key = [run.config.method, run.config.variant, run.config.dataset].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const rows = [...groups.values()].map((group) => {
    const accs = group.flatMap((run) => finalAccuracies(run).map((a) => a.test_acc));
    const { mean, std } = meanStd(accs);
    const pooled = pooledAccuracy(group);
    const c = group[0].config;
    return {
      method: c.method, variant: c.variant, dataset: c.dataset, runs: group.length,
      seeds: [...new Set(group.map((r) => r.config.seed))].join(' '), folds: accs.length,
      acc_mean: mean, acc_std: std, acc_pooled: pooled.acc, correct: pooled.correct, n_test: pooled.total,
    };
  });
  return new dfd.DataFrame(rows);
}

/** Summaries of every complete stored run (optionally of one method). */
export function summarizeStored(opts: { root?: string; method?: string } = {}): dfd.DataFrame {
  return summarizeRuns(listRuns(opts).filter((r) => r.complete).map((r) => loadRun(r.dir)));
}
