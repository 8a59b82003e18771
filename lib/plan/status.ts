/**
 * What of a plan is stored, read from the results store alone (no data is
 * loaded): a fold task is done once its fold result (or its whole run) is
 * stored, an HNG task once every generator it trains is. A run whose folds
 * have all landed but that no task assembled (two last folds landing at
 * once on a file system that caches directory lookups, e.g. NFS, can each
 * miss the other's file) is assembled here, as its last task would have.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import { assembleRun } from '../experiments/run-assembly';
import { RUN_FILES } from '../results/store';
import type { PlanFile, PlanTask } from './plan-file';

export function taskDone(plan: PlanFile, task: PlanTask): boolean {
  const at = (...p: string[]) => fs.existsSync(path.join(plan.resultsDir, ...p));
  if (task.kind === 'hng') return task.dirs.every((d) => at(d, 'weights.ckpt'));
  return at(task.dir, RUN_FILES.results) || at(task.dir, RUN_FILES.work, `fold-${task.fold}.json`);
}

/** Assembles the plan's runs whose folds have all landed (assembleRun: the same bytes as a task writes); how many. */
export function assembleLanded(plan: PlanFile): number {
  const dirs = [...new Set(plan.tasks.flatMap((t) => (t.kind === 'fold' ? [path.join(plan.resultsDir, t.dir)] : [])))];
  const at = (d: string, f: string) => fs.existsSync(path.join(d, f));
  const begun = (d: string) => at(d, RUN_FILES.config) && !at(d, RUN_FILES.results);
  return dirs.filter((d) => begun(d) && assembleRun(d)).length;
}

/** One row per group: its tasks, how many are done, and its runs complete out of its runs. */
export function planStatus(plan: PlanFile) {
  return plan.groups.map((g) => {
    const tasks = plan.tasks.slice(g.first, g.first + g.count);
    const runs = [...new Set(tasks.flatMap((t) => (t.kind === 'fold' ? [t.dir] : [])))];
    return {
      group: g.name, tasks: tasks.length, done: tasks.filter((t) => taskDone(plan, t)).length,
      runs: runs.length,
      'runs complete': runs.filter((d) => fs.existsSync(path.join(plan.resultsDir, d, RUN_FILES.results))).length,
    };
  });
}
