/**
 * A notebook's runs as a list planned before anything trains: for each row,
 * what runExperiment gets and whether the notebook trains it (its main
 * comparison, or every run with FER_STUDY=1) or only shows it when stored.
 * The study functions of notebooks 01-06 plan their list and train it with
 * runStudy; a cluster plan (lib/plan) trains the very same list as tasks,
 * so both make the same runs with the same ids.
 * @see notebooks/02-spndl.ipynb
 */
import { progressLine } from '../core/progress';
import { planRun, type RunOptions, type RunResult, runOrFind } from './runner';

export interface StudyRun {
  /** the notebook's name for the row: a variant, a sweep point, a calibration run, a compared method */
  name: string;
  /** what runExperiment gets (runStudy adds the progress callbacks) */
  run: Omit<RunOptions, 'onEpoch' | 'progress' | 'log' | 'force'>;
  /** trained when missing; false: only looked up, and shown when `npm run study` stored it */
  train: boolean;
}

/** The order runs are requested in: the costliest (listed last) first, so the fold pool does not end on one long run. */
export const requestOrder = <T>(runs: readonly T[]): T[] => [...runs].reverse();

/**
 * Trains (or reuses, or only looks up) a study's runs, all requested at once so that their folds share the
 * fold pool; one progress line, updated per epoch. Results in the listed order; null: not trained, not stored.
 */
export async function runStudy(runs: StudyRun[],
  opts: { label?: string; log?: (line: string) => void } = {}): Promise<(RunResult | null)[]> {
  const progress = progressLine();
  const prefix = opts.label ? `${opts.label} · ` : '';
  const results = await Promise.all(requestOrder(runs).map(async (r) => {
    const total = r.run.set ? planRun({ ...r.run, set: r.run.set }).config.totalEpochs : r.run.config.epochs;
    return runOrFind({
      ...r.run, log: opts.log, progress: null,
      // one update per epoch, not per step: fast successive kernel display updates can fail in tslab (EBUSY)
      onEpoch: (row) => progress.update(`${prefix}${r.name} · fold ${row.fold + 1} · epoch ${row.epoch}/${total} · ` +
        `test acc ${row.test_acc.toFixed(3)}`),
    }, r.train);
  }));
  const listed = requestOrder(results);
  const missing = runs.filter((_, i) => !listed[i]).map((r) => r.name);
  const trained = listed.filter((r) => r && !r.cached).length;
  progress.done(`${prefix}${trained} run(s) trained, ${listed.filter((r) => r?.cached).length} reused` +
    (missing.length ? `; not stored: ${missing.join(', ')} (npm run study trains them)` : ''));
  return listed;
}
