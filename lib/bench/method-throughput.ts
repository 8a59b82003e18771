/**
 * How fast each paper method trains as the notebooks train it: a short real
 * run (the shared runner, the method's own steps, optimisers and stages) on
 * a small SynFER set, once with every fold in this process and once on the
 * fold pool (lib/experiments/fold-pool.ts). Throughput is the training
 * images of every fold and epoch (a pair counts two) over the run's wall
 * time, evaluation and the method's `prepare` included, so it is what a
 * user waits for. The pretraining stages a method needs run once first, in
 * a results folder of their own, and are reused by both timed runs.
 * Measures only: nothing here asserts a speed.
 * @see notebooks/00-environment.ipynb
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type Config } from '../config';
import { loadDataset, type FerSet } from '../data/dataset';
import { ddlConfig, loadDdlData } from '../experiments/ddl';
import { idfermConfig } from '../experiments/idferm';
import { getMethod } from '../experiments/methods';
import { runExperiment } from '../experiments/runner';
import { frameRows } from '../results/store';

export interface MethodRun {
  label: string;
  method: string;
  variant: string;
  /** the notebook's configuration for the method */
  config(base: Config): Config;
  data(config: Config): Promise<FerSet>;
}

const shared = (c: Config) => c;
export const METHOD_RUNS: MethodRun[] = [
  { label: 'baseline', method: 'baseline', variant: 'plain', config: shared, data: loadDataset },
  { label: 'SPNDL (paired NDF, SPL)', method: 'spndl', variant: 'spndl', config: shared, data: loadDataset },
  { label: 'GNDL (paired, NFG)', method: 'gndl', variant: 'gndl', config: shared, data: loadDataset },
  { label: 'IDFERM (RML with HNG references)', method: 'idferm', variant: 'idferm', config: idfermConfig, data: loadDataset },
  { label: 'DDL (DFEMs, attention, D and network steps)', method: 'ddl', variant: 'ddl-gar-id-il-p', config: (c) => ddlConfig(c), data: loadDdlData },
];

/** A small lite-profile run: 16 subjects, 4 folds, 6 epochs (SPL: 6 paces of 1), small pretraining stages. */
export function benchConfig(workers: number): Config {
  return loadConfig({ FER_PROFILE: 'lite' }, {
    subjects: 16, folds: 4, epochs: 6, workers,
    spndlSubjects: 16, spndlFolds: 4, spndlPaceEpochs: '1,1,1,1,1,1',
    gndlSubjects: 16, gndlFolds: 4, gndlEpochs: 6,
    idfermSubjects: 16, idfermFolds: 4, idfermEpochs: 6, idfermHngSubjects: 8, idfermHngWarmupEpochs: 1, idfermHngEpochs: 1, idfermIdnetEpochs: 1,
    ddlSubjects: 16, ddlFolds: 4, ddlEpochs: 6, ddlDfemSubjects: 8, ddlDfemEpochs: 1, ddlPretrainSubjects: 8, ddlPretrainImages: 8, ddlPretrainEpochs: 1,
  });
}

export interface MethodThroughput {
  label: string;
  run: string;
  /** training images per second with every fold in this process, and on the fold pool */
  inProcess: number;
  pool: number;
  poolWorkers: number;
  ratio: number;
}

async function timed(spec: MethodRun, workers: number, resultsDir: string): Promise<{ seconds: number; images: number }> {
  const config = spec.config(benchConfig(workers));
  const set = await spec.data(config);
  const t0 = performance.now();
  const run = await runExperiment({ config, method: spec.method, variant: spec.variant, set, resultsDir, force: true, progress: null });
  const seconds = (performance.now() - t0) / 1000;
  const pair = getMethod(spec.method).inputs(run.config.options).train === 'pair' ? 2 : 1;
  const images = frameRows(run.results).reduce((a, r) => a + pair * (r.n_train as number), 0);
  return { seconds, images };
}

/** Times every method in `runs` in process and on a pool of `workers`; `log` gets a line per measurement. */
export async function methodThroughput(workers: number, opts: { runs?: MethodRun[]; log?: (line: string) => void } = {}): Promise<MethodThroughput[]> {
  const log = opts.log ?? (() => undefined);
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-bench-'));
  const out: MethodThroughput[] = [];
  try {
    for (const spec of opts.runs ?? METHOD_RUNS) {
      await timed(spec, workers, resultsDir); // trains the method's stages, starts the workers, warms the kernels
      const one = await timed(spec, 1, resultsDir);
      const pooled = await timed(spec, workers, resultsDir);
      const row = {
        label: spec.label, run: `${spec.method}/${spec.variant}`, inProcess: one.images / one.seconds, pool: pooled.images / pooled.seconds,
        poolWorkers: workers, ratio: one.seconds / pooled.seconds,
      };
      log(`${row.label}: ${row.inProcess.toFixed(0)} images/s in process, ${row.pool.toFixed(0)} on ${workers} fold workers (${row.ratio.toFixed(2)}x)`);
      out.push(row);
    }
  } finally {
    fs.rmSync(resultsDir, { recursive: true, force: true });
  }
  return out;
}
