/**
 * How a run's folder is begun and finished, the one way every trainer of a
 * run uses (runExperiment in a notebook, a cluster task training one fold):
 * - beginRun writes config.json and folds.csv (the same bytes every time);
 * - each trained fold lands as work/fold-N.json (writeFoldResult);
 * - assembleRun turns the fold files into the run's tables once every fold
 *   has landed: predictions.csv, spl.csv, run.json, then results.csv, whose
 *   presence marks the run complete.
 * assembleRun reads nothing but the run folder, so it gives the same bytes
 * whoever calls it and however often: two tasks that finish a run's last
 * folds at once both assemble it, and every file is replaced atomically.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { FerSet } from '../data/dataset';
import { writeFileAtomic } from '../core/atomic-write';
import { readCsvRows, type Row, RUN_FILES, runIdFor, writeCsv } from '../results/store';
import { paceRows } from '../train/spl';
import { type FoldResult, reviveRows } from '../train/trainer';
import type { RunConfig } from '../train/run-types';

/** A fold's result as stored: the trainer's, with when, where and how long it trained. */
export interface StoredFold extends FoldResult {
  /** seconds this fold's training took (0 when stored before they were recorded) */
  seconds?: number;
  /** when it finished (ISO time) */
  finished?: string;
  /** the backend that trained it */
  backend?: string;
}

export const foldResultFile = (dir: string, fold: number) => path.join(dir, RUN_FILES.work, `fold-${fold}.json`);
export const foldCheckpointFile = (dir: string, fold: number) => path.join(dir, RUN_FILES.work, `fold-${fold}.ckpt`);

/** Writes config.json and folds.csv of a run and its work folder; every caller writes the same bytes. */
export function beginRun(dir: string, config: RunConfig, set: FerSet, foldOf: number[]): void {
  fs.mkdirSync(path.join(dir, RUN_FILES.work), { recursive: true });
  writeFileAtomic(path.join(dir, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  const folds = foldOf.map((fold, sample) => ({ sample, subject: set.subjects[sample], fold }));
  writeCsv(path.join(dir, RUN_FILES.folds), folds);
}

/** Stores one trained fold (atomically): what assembleRun reads. */
export function writeFoldResult(dir: string, result: FoldResult, seconds: number): void {
  const stored: StoredFold = { ...result, seconds, finished: new Date().toISOString(), backend: tf.getBackend() };
  writeFileAtomic(foldResultFile(dir, result.fold), JSON.stringify(stored));
}

/** A fold's stored result, or null when it has not landed yet. */
export function readFoldResult(dir: string, fold: number): StoredFold | null {
  const file = foldResultFile(dir, fold);
  if (!fs.existsSync(file)) return null;
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredFold;
  if (stored.fold !== fold) throw new Error(`${file} holds fold ${stored.fold}, not fold ${fold}`);
  return { ...stored, rows: reviveRows(stored.rows) };
}

/** The test folds of a begun run (from its folds.csv), with their training and test sizes. */
export function runFolds(dir: string): { fold: number; train: number; test: number }[] {
  const foldOf = readCsvRows(path.join(dir, RUN_FILES.folds)).map((r) => Number(r.fold));
  const ids = [...new Set(foldOf.filter((f) => f >= 0))].sort((a, b) => a - b);
  return ids.map((fold) => {
    const test = foldOf.filter((f) => f === fold).length;
    return { fold, train: foldOf.length - test, test };
  });
}


/**
 * Writes the run's tables from its fold files when every fold has landed;
 * false (nothing written) while some fold is missing. results.csv last.
 */
export function assembleRun(dir: string): boolean {
  const config = JSON.parse(fs.readFileSync(path.join(dir, RUN_FILES.config), 'utf8')) as RunConfig;
  const runId = runIdFor(config);
  if (runId !== path.basename(dir)) throw new Error(`${dir}/${RUN_FILES.config} belongs to run ${runId}, not this folder`);
  const folds = runFolds(dir);
  const results = folds.map((f) => readFoldResult(dir, f.fold));
  if (results.some((r) => r === null)) return false;
  const done = results as StoredFold[];
  const { method, variant, seed } = config;
  const rows: Row[] = done.flatMap((r) => r.rows.map((row) => ({ run: runId, method, variant, seed, ...row })));
  writeCsv(path.join(dir, RUN_FILES.predictions), done.flatMap((r) => r.predictions.map((p) => ({ ...p }))));
  if (config.spl) writeCsv(path.join(dir, RUN_FILES.spl), done.flatMap((r) => paceRows(r.spl, { fold: r.fold })));
  const data = config.data;
  writeFileAtomic(path.join(dir, RUN_FILES.meta), JSON.stringify({
    runId,
    backend: [...new Set(done.map((r) => r.backend ?? 'unknown'))].sort().join(', '),
    dataset: data
      ? { name: data.name, samples: data.samples, size: data.size, channels: data.channels, classes: data.classes } : null,
    folds,
    // from the fold files, so that every assembly writes the same bytes: the last fold's end, the folds' own time summed
    finished: done.map((r) => r.finished ?? '').sort().pop() || null,
    seconds: done.reduce((a, r) => a + (r.seconds ?? 0), 0),
  }, null, 2) + '\n');
  writeCsv(path.join(dir, RUN_FILES.results), rows); // last: its presence marks the run complete
  return true;
}
